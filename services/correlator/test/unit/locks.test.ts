import { describe, expect, it } from 'vitest';
import { lockIdsFor } from '../../src/locks.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const KEYS = Array.from({ length: 200 }, (_, i) => `ipv4:192.0.2.${i}`);

function isSortedAscending(ids: readonly string[]): boolean {
  return ids.every((id, i) => i === 0 || BigInt(ids[i - 1]!) < BigInt(id));
}

describe('lockIdsFor', () => {
  it('is deterministic', () => {
    expect(lockIdsFor(KEYS)).toEqual(lockIdsFor(KEYS));
    expect(lockIdsFor(['domain:example.com'])).toEqual(lockIdsFor(['domain:example.com']));
  });

  it('gives one id per distinct key', () => {
    expect(lockIdsFor(KEYS)).toHaveLength(KEYS.length);
    expect(new Set(lockIdsFor(KEYS)).size).toBe(KEYS.length);
  });

  it('returns decimal strings within the signed 64-bit range', () => {
    const ids = lockIdsFor(KEYS);
    for (const id of ids) {
      expect(typeof id).toBe('string');
      expect(id).toMatch(/^-?(0|[1-9]\d*)$/);
      const value = BigInt(id);
      expect(value >= INT64_MIN && value <= INT64_MAX).toBe(true);
      expect(String(value)).toBe(id);
    }
    // With 200 hashes, both halves of the signed range are all but certain to appear.
    expect(ids.some((id) => id.startsWith('-'))).toBe(true);
    expect(ids.some((id) => !id.startsWith('-'))).toBe(true);
  });

  it('sorts ascending as signed 64-bit integers, not as text', () => {
    const ids = lockIdsFor(KEYS);
    expect(isSortedAscending(ids)).toBe(true);
    const asBigInts = ids.map(BigInt);
    expect([...asBigInts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(asBigInts);
  });

  it('deduplicates equal keys', () => {
    const ids = lockIdsFor(['a', 'b', 'a', 'b', 'a']);
    expect(ids).toHaveLength(2);
    expect(ids).toEqual(lockIdsFor(['a', 'b']));
  });

  it('does not depend on the order of the keys', () => {
    const expected = lockIdsFor(KEYS);
    expect(lockIdsFor([...KEYS].reverse())).toEqual(expected);
    const shuffled = [...KEYS.filter((_, i) => i % 3 === 2), ...KEYS.filter((_, i) => i % 3 !== 2).reverse()];
    expect(lockIdsFor(shuffled)).toEqual(expected);
    expect(lockIdsFor(['z', 'm', 'a'])).toEqual(lockIdsFor(['a', 'm', 'z']));
  });

  it('gives the same id for a key whatever else is locked with it', () => {
    const [alone] = lockIdsFor(['sha256:abc']);
    expect(lockIdsFor(['sha256:abc', ...KEYS])).toContain(alone);
  });

  it('accepts any iterable and returns [] for no keys', () => {
    expect(lockIdsFor([])).toEqual([]);
    expect(lockIdsFor(new Set(KEYS))).toEqual(lockIdsFor(KEYS));
    function* generate(): Generator<string> {
      yield* KEYS;
    }
    expect(lockIdsFor(generate())).toEqual(lockIdsFor(KEYS));
  });
});
