import { createHash } from 'node:crypto';

/** SHA-256 (hex) of a list of strings, each kept apart from the next whatever it holds. */
export function contentSha256Hex(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}
