import { RenkeiError, watchDependency, type DependencyWatch, type Logger } from '@renkei/runtime';
import type { Queryable } from './pool.js';

/**
 * Checks PostgreSQL every `intervalMs`; `isHealthy()` feeds readiness, and an
 * outage longer than `lossTimeoutMs` is reported as RENKEI_DATABASE_LOST.
 */
export function watchDatabase(
  db: Queryable,
  options: {
    intervalMs: number;
    lossTimeoutMs: number;
    logger: Logger;
    onLost: (error: RenkeiError) => void;
  },
): DependencyWatch {
  return watchDependency({
    name: 'postgres',
    check: () => db.query('SELECT 1'),
    intervalMs: options.intervalMs,
    lossTimeoutMs: options.lossTimeoutMs,
    logger: options.logger,
    onLost: (cause) => options.onLost(new RenkeiError('RENKEI_DATABASE_LOST', undefined, { cause })),
  });
}
