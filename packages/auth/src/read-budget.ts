/**
 * The pure core of the read budget: weighted token buckets and in-flight
 * counters, keyed by whatever the caller chooses (an organisation and its
 * tier). No clock of their own: every call is given the time, so tests can
 * walk through refills exactly.
 */

/** How fast a bucket fills and how much it holds, in read units. */
export interface BucketRate {
  /** Units added per second. */
  perSecond: number;
  /** The most a bucket holds: what a caller idle for long can spend at once. */
  burst: number;
}

const EPSILON = 1e-9;

export type Take = { granted: true } | { granted: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
  /** When it would be full again if left alone: a full bucket is the same as none. */
  fullAt: number;
}

/**
 * Token buckets keyed by a string, each spending `cost` units per request.
 * A key never seen starts full. A request whose cost exceeds the burst costs
 * the whole burst (a full bucket), so it is rare, never impossible.
 *
 * Memory is bounded: full buckets are dropped (they behave exactly like absent
 * ones), and past `maxKeys` the least recently used go, which can only hand a
 * key a fresh burst earlier than due; registered organisations are far fewer.
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;

  constructor({ maxKeys = 10_000 }: { maxKeys?: number } = {}) {
    this.#maxKeys = maxKeys;
  }

  /** Spends `cost` units of `key`'s bucket at `nowMs` (a monotonic clock), or says how long until it could. */
  take(key: string, cost: number, rate: BucketRate, nowMs: number): Take {
    const needed = Math.min(Math.max(cost, 0), rate.burst);
    const tokens = this.available(key, rate, nowMs);
    // Refills are fractions: a hair of rounding must not refuse a request that is due.
    if (tokens + EPSILON < needed) {
      // A refusal changes nothing: the bucket keeps filling from where it was.
      return { granted: false, retryAfterMs: Math.ceil(((needed - tokens) / rate.perSecond) * 1000) };
    }
    const left = Math.max(0, tokens - needed);
    this.#buckets.delete(key);
    const fullAt = nowMs + ((rate.burst - left) / rate.perSecond) * 1000;
    if (fullAt > nowMs) this.#buckets.set(key, { tokens: left, at: nowMs, fullAt });
    this.#prune(nowMs);
    return { granted: true };
  }

  /** The units `key` could spend at `nowMs`. */
  available(key: string, rate: BucketRate, nowMs: number): number {
    const bucket = this.#buckets.get(key);
    if (!bucket) return rate.burst;
    // A clock that went back refills nothing rather than taking units away.
    const elapsedMs = Math.max(0, nowMs - bucket.at);
    return Math.min(rate.burst, bucket.tokens + (elapsedMs / 1000) * rate.perSecond);
  }

  /** Buckets held (not full): for tests and metrics. */
  get size(): number {
    return this.#buckets.size;
  }

  #prune(nowMs: number): void {
    if (this.#buckets.size <= this.#maxKeys) return;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.fullAt <= nowMs) this.#buckets.delete(key);
    }
    // Map order is last use (each take re-inserts), so the first keys are the least recently used.
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= this.#maxKeys) break;
      this.#buckets.delete(key);
    }
  }
}

/**
 * How many requests of each key are in flight, with a cap per key. A slot is
 * released once, however often its release is called.
 */
export class InFlightSlots {
  readonly #counts = new Map<string, number>();

  /** A release function, or undefined when `key` already holds `cap` slots. */
  tryAcquire(key: string, cap: number): (() => void) | undefined {
    const count = this.#counts.get(key) ?? 0;
    if (count >= cap) return undefined;
    this.#counts.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.#counts.get(key) ?? 1) - 1;
      if (now <= 0) this.#counts.delete(key);
      else this.#counts.set(key, now);
    };
  }

  inFlight(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
}
