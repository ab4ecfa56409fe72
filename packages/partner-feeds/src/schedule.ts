/**
 * When a feed is polled: every `pollIntervalSeconds` after a success; after
 * a failure sooner at first (a partner's brief outage should not cost a whole
 * interval), then doubling, never more often than `retryBaseMs` and never
 * later than the larger of the interval and an hour. Pure, so the schedule is
 * tested without a clock.
 */
export interface BackoffPolicy {
  /** The wait after the first failure. */
  retryBaseMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { retryBaseMs: 30_000 };

const HOUR_MS = 3_600_000;

/** When to poll again after a successful poll; `more` when the poll stopped at its bound with more to read. */
export function nextPollAfterSuccess(now: Date, pollIntervalSeconds: number, more = false): Date {
  return new Date(now.getTime() + (more ? 0 : pollIntervalSeconds * 1000));
}

/** When to poll again after the `failures`-th failure in a row (1 for the first). */
export function nextPollAfterFailure(
  now: Date,
  pollIntervalSeconds: number,
  failures: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): Date {
  const ceiling = Math.max(pollIntervalSeconds * 1000, HOUR_MS);
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const delay = Math.min(policy.retryBaseMs * 2 ** exponent, ceiling);
  return new Date(now.getTime() + delay);
}

export interface DueInput {
  nextPollAt: Date | null;
  syncRequestedAt: Date | null;
  lastSyncServedAt: Date | null;
}

/** A feed is due when its time has come, when it was never polled, or when a sync was asked for since the last one served. */
export function isDue(feed: DueInput, now: Date): boolean {
  if (feed.nextPollAt === null || feed.nextPollAt.getTime() <= now.getTime()) return true;
  return (
    feed.syncRequestedAt !== null &&
    (feed.lastSyncServedAt === null || feed.syncRequestedAt.getTime() > feed.lastSyncServedAt.getTime())
  );
}
