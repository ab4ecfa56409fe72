import type { CorrelationSettings } from '@renkei/correlation';
import { isDatabaseUnavailable, type Pool } from '@renkei/db';
import type { Closable, Logger } from '@renkei/runtime';
import { backfillNextEntry } from './process-report.js';

/**
 * Matches each new watchlist entry against the reports stored before it.
 * The gateway only records the entry; every correlator looks for entries not
 * yet matched and claims one at a time (a row lock, skipped by the others),
 * so each is matched once, within a poll of being added.
 */
export function startWatchlistBackfill({
  pool,
  settings,
  logger,
  pollMs,
  onAlerts,
}: {
  pool: Pool;
  settings: CorrelationSettings;
  logger: Logger;
  pollMs: number;
  onAlerts: () => void;
}): Closable {
  const log = logger.child({ component: 'watchlist-backfill' });
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let waiting = false;
  const loop = (async () => {
    while (!closed) {
      try {
        for (;;) {
          const done = await backfillNextEntry(pool, settings);
          if (!done) break;
          log.info(
            { entryId: done.entryId, alerts: done.alerts.map((a) => ({ id: a.id, version: a.version })) },
            'watchlist entry matched against stored reports',
          );
          if (done.alerts.length > 0) onAlerts();
          if (closed) break;
        }
        if (waiting) log.info('watchlist backfill reaches PostgreSQL again');
        waiting = false;
      } catch (error) {
        // PostgreSQL away is said once per outage (readiness names it); anything else is a bug to see.
        if (!isDatabaseUnavailable(error))
          log.error({ err: error }, 'watchlist backfill failed; trying again');
        else if (!waiting) log.warn({ err: error }, 'watchlist backfill waits for PostgreSQL');
        waiting = isDatabaseUnavailable(error);
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, pollMs);
      });
    }
  })();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}
