import { RenkeiError, watchDependency, type DependencyWatch, type Logger } from '@renkei/runtime';
import { brokerCheck, type Kafka } from './kafka.js';

/**
 * Checks the Kafka cluster every `intervalMs`; `isHealthy()` feeds readiness,
 * and an outage longer than `lossTimeoutMs` is reported as RENKEI_BROKER_LOST.
 */
export function watchBroker(
  kafka: Kafka,
  options: {
    intervalMs: number;
    lossTimeoutMs: number;
    logger: Logger;
    onLost: (error: RenkeiError) => void;
  },
): DependencyWatch {
  const probe = brokerCheck(kafka);
  const watch = watchDependency({
    name: 'kafka',
    check: probe.check,
    intervalMs: options.intervalMs,
    lossTimeoutMs: options.lossTimeoutMs,
    logger: options.logger,
    onLost: (cause) => options.onLost(new RenkeiError('RENKEI_BROKER_LOST', undefined, { cause })),
  });
  return {
    isHealthy: watch.isHealthy,
    async close() {
      await watch.close();
      await probe.close();
    },
  };
}
