import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPOSITORY_ROOT } from '@renkei/runtime';

/**
 * Integration suites need the real broker. `npm test` starts it first; this
 * covers running vitest directly. Starting an already running broker is a no-op.
 */
export default function setup(): void {
  execFileSync(path.join(REPOSITORY_ROOT, 'infra/kafka/kafka.sh'), ['start'], { stdio: 'inherit' });
}
