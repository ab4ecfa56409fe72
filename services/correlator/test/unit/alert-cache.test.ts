import { describe, expect, it } from 'vitest';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';
import { AlertCache } from '../../src/alert-cache.js';

function withContributions(count: number) {
  return alertRecordFixture({ contributions: Array.from({ length: count }, () => contributionFixture()) });
}

describe('AlertCache', () => {
  it('holds records up to its budget of contributions, the least recently used leaving first', () => {
    const cache = new AlertCache(10);
    cache.remember([
      { correlationKey: 'a', record: withContributions(4) },
      { correlationKey: 'b', record: withContributions(4) },
    ]);
    expect(cache.get('a')?.contributions).toHaveLength(4); // a is now the most recent
    cache.remember([{ correlationKey: 'c', record: withContributions(4) }]);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.size).toBe(2);
  });

  it('keeps the latest record of an alert, forgets on demand, and never holds one larger than its budget', () => {
    const cache = new AlertCache(10);
    cache.remember([
      { correlationKey: 'a', record: withContributions(2) },
      { correlationKey: 'a', record: withContributions(3) },
    ]);
    expect(cache.get('a')?.contributions).toHaveLength(3);
    cache.remember([{ correlationKey: 'big', record: withContributions(11) }]);
    expect(cache.get('big')).toBeUndefined();
    cache.forget('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
    // The budget is back whole: ten contributions fit again.
    cache.remember([{ correlationKey: 'd', record: withContributions(10) }]);
    expect(cache.get('d')).toBeDefined();
  });
});
