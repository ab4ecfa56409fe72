/**
 * How long to wait before restarting a service that stopped. A service that
 * keeps failing at once (a bad configuration, a port taken) is tried less and
 * less often, up to `maxMs`, so its log stays readable and the machine is not
 * kept busy; one that had run for `stableMs` is treated as healthy again and
 * comes back after `baseMs`, since a crash after an hour of work is news, not
 * a loop.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000, stableMs: 60_000 };

/** Failures in a row after a run of `uptimeMs`: reset once a run was stable. */
export function failuresInRow(previous: number, uptimeMs: number, policy: BackoffPolicy): number {
  return uptimeMs >= policy.stableMs ? 1 : previous + 1;
}

/** The delay before the next start after `failures` failures in a row (1 = the first). */
export function restartDelay(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (failures <= 0) return 0;
  const exponent = Math.min(failures - 1, 30);
  return Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
}
