import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file lives at packages/runtime/src/paths.ts. */
export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Where a local hub keeps what it makes at run time (keys, the Kafka broker's
 * data, logs). Git ignores it.
 */
export function stateDirectory(env: Record<string, string | undefined> = process.env): string {
  return env.RENKEI_STATE_DIR ? path.resolve(env.RENKEI_STATE_DIR) : path.join(REPOSITORY_ROOT, '.renkei');
}
