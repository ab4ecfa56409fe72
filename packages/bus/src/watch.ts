import { RenkeiError, watchDependency, type DependencyWatch, type Logger } from '@renkei/runtime';
import { brokerCheck, type Kafka } from './kafka.js';

/**
 * Checks the Kafka cluster every `intervalMs`; `isHealthy()` feeds readiness,
 * and, when a `lossTimeoutMs` is given, an outage longer than that is
 * reported as RENKEI_BROKER_LOST.
 */
export function watchBroker(
  kafka: Kafka,
  options: {
    intervalMs: number;
    /** 0 or unset: never reported lost (the service waits, not ready). */
    lossTimeoutMs?: number;
    logger: Logger;
    onLost: (error: RenkeiError) => void;
  },
): DependencyWatch {
  const probe = brokerCheck(kafka);
  const watch = watchDependency({
    name: 'kafka',
    check: probe.check,
    intervalMs: options.intervalMs,
    lossTimeoutMs: options.lossTimeoutMs ?? 0,
    logger: options.logger,
    onLost: (cause) => options.onLost(new RenkeiError('RENKEI_BROKER_LOST', undefined, { cause })),
  });
  return {
    name: watch.name,
    isHealthy: watch.isHealthy,
    async close() {
      await watch.close();
      await probe.close();
    },
  };
}
