/**
 * When a failed delivery is tried again: exponential backoff with full
 * jitter (a crowd of deliveries that failed together does not return in one
 * instant), capped, and given up once the delivery is older than the
 * retry period; then it is marked failed and the endpoint's next one goes.
 */
export interface RetryPolicy {
  /** The first wait's upper bound. */
  baseMs: number;
  /** The longest wait between two attempts. */
  capMs: number;
  /** How long after its first attempt a delivery is still retried. */
  giveUpAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseMs: 1_000,
  capMs: 10 * 60_000,
  giveUpAfterMs: 24 * 3_600_000,
};

/**
 * The wait after the `attempt`-th failed attempt (1-based): a random share
 * (`random()` in [0, 1)) of min(cap, base·2^(attempt-1)), but at least a
 * tenth of that bound so a retry is never immediate.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 40);
  const bound = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  return Math.round(bound / 10 + random() * bound * 0.9);
}

/**
 * After a failed attempt at `now`: when to try again, or `null` when the
 * next attempt would fall past the retry period (the delivery has failed).
 */
export function nextAttemptAt(
  policy: RetryPolicy,
  firstAttemptAt: number,
  attempt: number,
  now: number,
  random: () => number = Math.random,
): number | null {
  const next = now + retryDelayMs(policy, attempt, random);
  return next - firstAttemptAt > policy.giveUpAfterMs ? null : next;
}
