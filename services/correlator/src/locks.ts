import { createHash } from 'node:crypto';

/**
 * Advisory-lock ids for correlation keys, sorted. Every process computes the
 * same ids and takes them in the same order, so two transactions that touch
 * the same indicators wait for each other instead of deadlocking.
 */
export function lockIdsFor(keys: Iterable<string>): string[] {
  const ids = new Set<bigint>();
  for (const key of keys) ids.add(createHash('sha256').update(key).digest().readBigInt64BE(0));
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String);
}
