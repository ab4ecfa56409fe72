import { createHash, hash } from 'node:crypto';

/**
 * Advisory-lock ids for correlation keys, sorted. Every process computes the
 * same ids and takes them in the same order, so two transactions that touch
 * the same indicators wait for each other instead of deadlocking.
 */
export function lockIdsFor(keys: Iterable<string>): string[] {
  const ids: bigint[] = [];
  for (const key of keys) ids.push(lockIdOf(key));
  return sortedLockIds(ids);
}

/** One key's lock id: the first eight bytes of its SHA-256, signed (PostgreSQL's bigint). */
export function lockIdOf(key: string): bigint {
  // The one-shot `hash` where Node has it: a chunk hashes thousands of short keys,
  // and a Hash object per key cost more than the digest itself.
  const digest =
    typeof hash === 'function' ? hash('sha256', key, 'buffer') : createHash('sha256').update(key).digest();
  return digest.readBigInt64BE(0);
}

/** Lock ids without repeats, in the order every process takes them. */
export function sortedLockIds(ids: Iterable<bigint>): string[] {
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String);
}
