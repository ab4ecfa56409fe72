import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPOSITORY_ROOT } from '@renkei/runtime';

const KAFKA_SH = path.join(REPOSITORY_ROOT, 'infra/kafka/kafka.sh');

/**
 * Integration suites need the real broker. `npm test` starts it first; this
 * covers running vitest directly. Starting an already running broker is a no-op.
 * Unless KAFKA_SECURITY says otherwise, the broker keeps the security it was
 * formatted with (the suites read the same, in @renkei/testing), and a new one is
 * secured; a KAFKA_SECURITY that disagrees with it fails here, naming both.
 */
export default function setup(): void {
  const env = { ...process.env };
  if (!env.KAFKA_SECURITY) {
    try {
      env.KAFKA_SECURITY = execFileSync(KAFKA_SH, ['security'], { encoding: 'utf8' }).trim();
    } catch {
      // Not formatted yet: kafka.sh's default (sasl_ssl).
    }
  }
  execFileSync(KAFKA_SH, ['start'], { stdio: 'inherit', env });
}
