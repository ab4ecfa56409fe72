import { RenkeiError, watchDependency, type DependencyWatch, type Logger } from '@renkei/runtime';
import type { Queryable } from './pool.js';

/**
 * Checks PostgreSQL every `intervalMs`; `isHealthy()` feeds readiness, and,
 * when a `lossTimeoutMs` is given, an outage longer than that is reported as
 * RENKEI_DATABASE_LOST.
 */
export function watchDatabase(
  db: Queryable,
  options: {
    intervalMs: number;
    /** 0 or unset: never reported lost (the service waits, not ready). */
    lossTimeoutMs?: number;
    logger: Logger;
    onLost: (error: RenkeiError) => void;
  },
): DependencyWatch {
  return watchDependency({
    name: 'postgres',
    check: () => db.query('SELECT 1'),
    intervalMs: options.intervalMs,
    lossTimeoutMs: options.lossTimeoutMs ?? 0,
    logger: options.logger,
    onLost: (cause) => options.onLost(new RenkeiError('RENKEI_DATABASE_LOST', undefined, { cause })),
  });
}
