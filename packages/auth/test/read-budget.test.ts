import { describe, expect, it } from 'vitest';
import { InFlightSlots, TokenBuckets } from '../src/read-budget.js';

const rate = { perSecond: 10, burst: 100 };

describe('TokenBuckets', () => {
  it('starts full and spends each request its cost', () => {
    const buckets = new TokenBuckets();
    expect(buckets.available('a', rate, 0)).toBe(100);
    expect(buckets.take('a', 50, rate, 0)).toEqual({ granted: true });
    expect(buckets.take('a', 30, rate, 0)).toEqual({ granted: true });
    expect(buckets.available('a', rate, 0)).toBe(20);
    expect(buckets.take('a', 20, rate, 0)).toEqual({ granted: true });
    expect(buckets.available('a', rate, 0)).toBe(0);
  });

  it('refuses what the bucket cannot pay, says when it could, and charges nothing for the refusal', () => {
    const buckets = new TokenBuckets();
    buckets.take('a', 95, rate, 0);
    // 5 left, 50 needed: 45 units at 10 per second.
    expect(buckets.take('a', 50, rate, 0)).toEqual({ granted: false, retryAfterMs: 4_500 });
    expect(buckets.available('a', rate, 0)).toBe(5);
    expect(buckets.take('a', 50, rate, 4_499)).toMatchObject({ granted: false });
    expect(buckets.take('a', 50, rate, 4_500)).toEqual({ granted: true });
    expect(buckets.available('a', rate, 4_500)).toBeCloseTo(0, 9);
  });

  it('refills at its rate and never past its burst', () => {
    const buckets = new TokenBuckets();
    buckets.take('a', 100, rate, 1_000);
    expect(buckets.available('a', rate, 1_500)).toBeCloseTo(5, 9);
    expect(buckets.available('a', rate, 3_000)).toBeCloseTo(20, 9);
    expect(buckets.available('a', rate, 60_000)).toBe(100);
  });

  it('charges a request dearer than the burst the whole burst, so it waits for a full bucket', () => {
    const buckets = new TokenBuckets();
    expect(buckets.take('a', 500, rate, 0)).toEqual({ granted: true });
    expect(buckets.available('a', rate, 0)).toBe(0);
    expect(buckets.take('a', 500, rate, 5_000)).toEqual({ granted: false, retryAfterMs: 5_000 });
    expect(buckets.take('a', 500, rate, 10_000)).toEqual({ granted: true });
  });

  it('keeps each key apart', () => {
    const buckets = new TokenBuckets();
    buckets.take('a', 100, rate, 0);
    expect(buckets.take('a', 1, rate, 0)).toMatchObject({ granted: false });
    expect(buckets.take('b', 100, rate, 0)).toEqual({ granted: true });
  });

  it('takes each call its own rate: a larger budget on another key', () => {
    const buckets = new TokenBuckets();
    const larger = { perSecond: 50, burst: 500 };
    expect(buckets.take('analyst', 400, larger, 0)).toEqual({ granted: true });
    expect(buckets.take('analyst', 200, larger, 0)).toEqual({ granted: false, retryAfterMs: 2_000 });
  });

  it('refills nothing, and takes nothing away, when the clock goes back', () => {
    const buckets = new TokenBuckets();
    buckets.take('a', 60, rate, 10_000);
    expect(buckets.available('a', rate, 9_000)).toBe(40);
    expect(buckets.take('a', 40, rate, 9_000)).toEqual({ granted: true });
  });

  it('never grants more than the burst plus the rate over any stretch of time', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const buckets = new TokenBuckets();
    const grants: { at: number; cost: number }[] = [];
    let now = 0;
    for (let i = 0; i < 5_000; i++) {
      now += Math.floor(random() * 200);
      const cost = [1, 5, 50, 150][Math.floor(random() * 4)]!;
      if (buckets.take('a', cost, rate, now).granted) grants.push({ at: now, cost: Math.min(cost, 100) });
    }
    expect(grants.length).toBeGreaterThan(100);
    for (let from = 0; from < grants.length; from += 97) {
      let spent = 0;
      for (let to = from; to < grants.length; to++) {
        spent += grants[to]!.cost;
        const seconds = (grants[to]!.at - grants[from]!.at) / 1000;
        expect(spent).toBeLessThanOrEqual(rate.burst + rate.perSecond * seconds + 1e-9);
      }
    }
  });

  it('forgets full buckets and, past its size, the least recently used', () => {
    const buckets = new TokenBuckets({ maxKeys: 3 });
    buckets.take('a', 10, rate, 0);
    buckets.take('b', 10, rate, 0);
    buckets.take('c', 10, rate, 0);
    expect(buckets.size).toBe(3);
    // a, b and c are full again after 1 s: the fourth key drops them, exactly as if never seen.
    buckets.take('d', 10, rate, 1_000);
    expect(buckets.size).toBe(1);
    buckets.take('e', 100, rate, 1_000);
    buckets.take('f', 100, rate, 1_000);
    buckets.take('d', 10, rate, 1_000);
    buckets.take('g', 100, rate, 1_000);
    // None full: e, least recently used, goes.
    expect(buckets.size).toBe(3);
    expect(buckets.available('e', rate, 1_000)).toBe(100);
    expect(buckets.available('f', rate, 1_000)).toBe(0);
    expect(buckets.available('d', rate, 1_000)).toBe(80);
  });

  it('holds no bucket for a request that leaves it full', () => {
    const buckets = new TokenBuckets();
    buckets.take('a', 0, rate, 0);
    expect(buckets.size).toBe(0);
  });
});

describe('InFlightSlots', () => {
  it('caps the slots of each key, and frees one per release however often it is called', () => {
    const slots = new InFlightSlots();
    const first = slots.tryAcquire('a', 2);
    const second = slots.tryAcquire('a', 2);
    expect(first).toBeTypeOf('function');
    expect(second).toBeTypeOf('function');
    expect(slots.tryAcquire('a', 2)).toBeUndefined();
    expect(slots.tryAcquire('b', 2)).toBeTypeOf('function');
    first!();
    first!();
    expect(slots.inFlight('a')).toBe(1);
    const third = slots.tryAcquire('a', 2);
    expect(third).toBeTypeOf('function');
    expect(slots.tryAcquire('a', 2)).toBeUndefined();
    second!();
    third!();
    expect(slots.inFlight('a')).toBe(0);
  });
});
