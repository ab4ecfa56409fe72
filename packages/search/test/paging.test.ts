import { describe, expect, it } from 'vitest';
import { MAX_SEARCH_OFFSET, packPage, SEARCH_GROUPS, searchFingerprint, unpackPage } from '../src/index.js';

describe('search paging positions', () => {
  const print = searchFingerprint([
    ['q', 'ipv4:203.0.113.7'],
    ['limit', 20],
  ]);

  it('unpack what they packed, for every group', () => {
    for (const group of SEARCH_GROUPS) {
      for (const offset of [0, 1, 20, MAX_SEARCH_OFFSET]) {
        expect(unpackPage(packPage({ group, offset }, print), print)).toEqual({ group, offset });
      }
    }
  });

  it('do not open for another search', () => {
    const other = searchFingerprint([
      ['q', 'ipv4:203.0.113.8'],
      ['limit', 20],
    ]);
    expect(other).not.toBe(print);
    expect(unpackPage(packPage({ group: 'reports', offset: 20 }, print), other)).toBeUndefined();
  });

  it('refuse what is no page', () => {
    expect(unpackPage(0n, print)).toBeUndefined();
    expect(unpackPage((9n << 56n) | (BigInt(print) << 32n), print)).toBeUndefined();
    expect(
      unpackPage((1n << 56n) | (BigInt(print) << 32n) | BigInt(MAX_SEARCH_OFFSET + 1), print),
    ).toBeUndefined();
    expect(() => packPage({ group: 'reports', offset: -1 }, print)).toThrow(RangeError);
  });

  it('name a search by its parameters in order', () => {
    expect(searchFingerprint([['a', 1]])).toBe(searchFingerprint([['a', 1]]));
    expect(searchFingerprint([['a', 1]])).toBeLessThan(2 ** 24);
  });
});
