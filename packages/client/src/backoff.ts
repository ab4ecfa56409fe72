export interface BackoffOptions {
  /** The ceiling of the first wait. */
  initialMs: number;
  /** No wait is longer than this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/**
 * How long to wait before reconnection attempt `attempt` (0 for the first
 * after a working connection): exponential, with full jitter. Jitter spreads
 * a crowd of clients that lost the same gateway at the same moment, so they
 * do not all come back to the next one in the same instant.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * How long to wait after the gateway said the organisation holds all the
 * streams it may (4429): a place frees only when another stream of the
 * organisation closes, so trying again soon only repeats the refusal. The
 * wait is between half the longest wait and the longest (jittered, so the
 * organisation's refused clients do not return together).
 */
export function crowdedDelay(options: BackoffOptions, random: () => number = Math.random): number {
  return Math.floor(options.maxMs / 2 + (random() * options.maxMs) / 2);
}
