import { describe, expect, it } from 'vitest';
import { alertRecordSchema, decodeAlertPairs, encodeAlertPairs } from '@renkei/schema';

/** Every pair of `count` contributions, in the decoder's order (by the larger index, then the smaller). */
function allPairs(count: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let j = 1; j < count; j += 1) for (let i = 0; i < j; i += 1) pairs.push([i, j]);
  return pairs;
}

describe('alert pairs', () => {
  it.each([2, 3, 7, 8, 9, 17, 64, 100])(
    'gives back every subset it stores, for %i contributions',
    (count) => {
      const every = allPairs(count);
      expect(decodeAlertPairs(count, encodeAlertPairs(count, every))).toEqual(every);
      expect(decodeAlertPairs(count, encodeAlertPairs(count, []))).toEqual([]);
      let seed = count;
      const some = every.filter(() => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) & 4) === 0);
      // Either order in, the smaller first out; a pair given twice is one pair.
      const given = [...some.map(([i, j]) => [j, i] as [number, number]), ...some];
      expect(decodeAlertPairs(count, encodeAlertPairs(count, given))).toEqual(some);
    },
  );

  it('reads the last pair of a large campaign where floating point would miss the row', () => {
    const count = 500;
    const last: [number, number][] = [
      [498, 499],
      [0, 499],
      [0, 1],
    ];
    expect(decodeAlertPairs(count, encodeAlertPairs(count, last))).toEqual([
      [0, 1],
      [0, 499],
      [498, 499],
    ]);
  });

  it('is small: every pair of 500 contributions in under 21 KB', () => {
    expect(encodeAlertPairs(500, allPairs(500)).length).toBeLessThan(21_000);
  });

  it('refuses a pair that is not one', () => {
    expect(() => encodeAlertPairs(3, [[1, 1]])).toThrow(RangeError);
    expect(() => encodeAlertPairs(3, [[0, 3]])).toThrow(RangeError);
  });

  it('is what the record schema accepts', () => {
    expect(alertRecordSchema.shape.pairs.safeParse(encodeAlertPairs(9, allPairs(9))).success).toBe(true);
    expect(alertRecordSchema.shape.pairs.safeParse('not base64!').success).toBe(false);
  });
});
