import type { Producer } from 'kafkajs';

export type ProducerFault =
  /** The send fails at once with this error. */
  | { kind: 'fail'; error: Error }
  /** The send never completes (until the caller's deadline gives up on it). */
  | { kind: 'stall' };

export interface ControllableProducer {
  producer: Producer;
  /** The next sends, one fault each, fail or stall instead of reaching Kafka. */
  inject(...faults: ProducerFault[]): void;
  /** How many sends reached the real producer. */
  readonly delivered: number;
}

/**
 * A real kafkajs producer whose next sends can be made to fail or hang on
 * demand, so a test sees what a service answers when Kafka does not: every
 * send without a fault goes to the real broker.
 */
export function controllable(real: Producer): ControllableProducer {
  const faults: ProducerFault[] = [];
  let delivered = 0;
  const apply = <T>(send: () => Promise<T>): Promise<T> => {
    const fault = faults.shift();
    if (fault?.kind === 'fail') return Promise.reject(fault.error);
    if (fault?.kind === 'stall') return new Promise<T>(() => undefined);
    delivered += 1;
    return send();
  };
  const producer = new Proxy(real, {
    get(target, property, receiver) {
      if (property === 'send')
        return (record: Parameters<Producer['send']>[0]) => apply(() => target.send(record));
      if (property === 'sendBatch')
        return (batch: Parameters<Producer['sendBatch']>[0]) => apply(() => target.sendBatch(batch));
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return {
    producer,
    inject: (...more) => faults.push(...more),
    get delivered() {
      return delivered;
    },
  };
}
