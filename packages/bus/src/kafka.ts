import {
  Kafka,
  Partitioners,
  logLevel,
  type Consumer,
  type ConsumerConfig,
  type ConsumerRunConfig,
  type ConsumerSubscribeTopics,
  type LogEntry,
  type Producer,
} from 'kafkajs';
import type { Logger } from '@renkei/runtime';
import { kafkaClientSecurity, type KafkaClientSecurity, type KafkaSecurityConfig } from './security.js';

export type { Kafka, Producer, Consumer };

const PINO_LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** The Kafka part of a configuration (kafkaEnv in @renkei/schema): where the brokers are and how to reach them. */
export type KafkaClientConfig = KafkaSecurityConfig & { KAFKA_BROKERS: string[] };

/**
 * The one way anything in the repository builds a Kafka client: the services, the
 * CLI, the tests, the benchmarks and the fault drills. It reads the security of
 * `config` (TLS + SCRAM as `principal` on a secured broker, plaintext only when the
 * configuration says so), so no caller can forget it; eslint refuses `new Kafka(`
 * anywhere else.
 */
export function kafkaClient(
  config: KafkaClientConfig,
  {
    clientId,
    principal,
    logger,
    env,
  }: {
    clientId: string;
    /** Whose credentials, unless KAFKA_SASL_USERNAME names another: `ingest`, …, `admin`. */
    principal: string;
    logger: Logger;
    /** Where the default credential files are looked for (RENKEI_STATE_DIR); process.env by default. */
    env?: Record<string, string | undefined>;
  },
): Kafka {
  return createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId,
    logger,
    security: kafkaClientSecurity(config, { principal, ...(env ? { env } : {}) }),
  });
}

function createKafka({
  brokers,
  clientId,
  logger,
  security,
}: {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** From {@link kafkaClientSecurity}; undefined on a plaintext broker. */
  security: KafkaClientSecurity | undefined;
}): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers,
    // A TLS handshake with a busy broker JVM can take longer than kafkajs's 1 s default.
    ...(security ? { ssl: security.ssl, sasl: security.sasl, connectionTimeout: 10_000 } : {}),
    // kafkajs is chatty at INFO (every join and commit); warnings and errors are what operators need.
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _name, ...rest } = log;
        kafkaLogger[PINO_LEVEL[level] ?? 'info'](rest, message);
      },
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

/**
 * A producer whose acknowledged writes are durable: acks from all in-sync
 * replicas, idempotent (the broker drops the duplicates its own retries would
 * make), one request in flight so retries cannot reorder messages.
 */
export function createReliableProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    // Long enough to ride out the loss of a leader in a cluster (the controller fences a
    // dead node after broker.session.timeout.ms, then its partitions get new leaders):
    // about 14 s of retries (ingest waits 15 s), at most 0.5 s apart so a request to a dead
    // leader goes to the new one soon after the fence. Bounded, so with the only broker gone
    // a send fails and its caller can answer 503. Safe to retry only through PartitionLanes.
    retry: { initialRetryTime: 100, maxRetryTime: 500, retries: 30 },
  });
}

/**
 * kafkajs restarts a consumer after a retriable failure (a coordinator still
 * loading, a broker away); how long the hub tolerates that is the broker
 * watch's business. {@link keepConsuming} runs it and restarts it after a
 * crash kafkajs will not restart from.
 */
export function createConsumer(kafka: Kafka, config: ConsumerConfig): Consumer {
  return kafka.consumer({
    allowAutoTopicCreation: false,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    ...config,
  });
}

/** Calls `handle` when the consumer crashed and kafkajs will not restart it. */
export function onFinalCrash(consumer: Consumer, handle: (error: Error) => void): void {
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) handle(event.payload.error);
  });
}

/** A consumer kept running by {@link keepConsuming}. */
export interface KeptConsumer {
  /** `kafka-consumer`: healthy while the consumer is in its group (joined since its last crash). */
  readonly name: string;
  isHealthy(): boolean;
  /** Stops restarting it (the owner disconnects the consumer afterwards, as before). */
  close(): Promise<void>;
}

const RESTART_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/**
 * Subscribes and runs a connected consumer, and keeps it running. kafkajs
 * restarts a consumer itself after a crash it deems retriable (a broker
 * away, its retries exhausted), re-fetching from the last resolved offset;
 * after any other crash it stays stopped for good — and some of those follow
 * a broker's restart (the group coordinator not found yet is not retriable
 * to kafkajs). Those are restarted here, with backoff, on the same consumer
 * (`connect`, `subscribe`, `run` again), so a consumer comes back once the
 * broker does. With `onFinalCrash` (the service exits instead, for an
 * orchestrator to restart it) nothing is restarted here.
 */
export async function keepConsuming(
  consumer: Consumer,
  {
    subscription,
    run,
    logger,
    onFinalCrash: handleFinalCrash,
  }: {
    subscription: ConsumerSubscribeTopics;
    run: ConsumerRunConfig;
    logger: Logger;
    onFinalCrash?: (error: Error) => void;
  },
): Promise<KeptConsumer> {
  let joined = false;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let restarting: Promise<void> | undefined;
  const log = logger.child({ component: 'kafka-consumer' });

  const start = async () => {
    await consumer.subscribe(subscription);
    await consumer.run(run);
  };

  const restartLater = (error: unknown) => {
    if (closed) return;
    const delay = RESTART_DELAYS_MS[Math.min(attempt, RESTART_DELAYS_MS.length - 1)]!;
    attempt += 1;
    log.warn({ err: error, inMs: delay, attempt }, 'consumer stopped for good by kafkajs: restarting it');
    timer = setTimeout(() => {
      restarting = (async () => {
        try {
          if (closed) return;
          await consumer.connect();
          if (closed) return;
          await start();
        } catch (failure) {
          restartLater(failure);
        }
      })();
    }, delay);
  };

  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    attempt = 0;
  });
  consumer.on(consumer.events.CRASH, (event) => {
    joined = false;
    if (event.payload.restart) return;
    if (handleFinalCrash) handleFinalCrash(event.payload.error);
    else restartLater(event.payload.error);
  });

  await start();
  return {
    name: 'kafka-consumer',
    isHealthy: () => joined,
    async close() {
      closed = true;
      clearTimeout(timer);
      await restarting;
    },
  };
}

/** Asks the broker for its cluster metadata: a cheap round trip for health checks. */
export function brokerCheck(kafka: Kafka): { check: () => Promise<void>; close: () => Promise<void> } {
  const admin = kafka.admin({ retry: { retries: 0 } });
  let connected: Promise<void> | undefined;
  return {
    async check() {
      connected ??= admin.connect().catch((error: unknown) => {
        connected = undefined;
        throw error;
      });
      await connected;
      await admin.describeCluster();
    },
    async close() {
      if (connected) await connected.then(() => admin.disconnect()).catch(() => undefined);
    },
  };
}

/** A Kafka operation that did not finish in the time the hub allows it. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
}

/** Rejects when `work` takes longer than `ms`; the work itself is not cancelled. */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineExceededError(`${what} took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * True for a Kafka failure that a retry can get past once the broker answers:
 * our own deadlines, connection and request timeouts, and whatever kafkajs
 * itself marks retriable (leader elections, a broker not yet available).
 */
export function isBrokerUnavailable(error: unknown): boolean {
  if (error instanceof DeadlineExceededError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { name, retriable, cause, originalError } = error as {
    name?: unknown;
    retriable?: unknown;
    cause?: unknown;
    originalError?: unknown;
  };
  if (typeof name !== 'string' || !name.startsWith('KafkaJS')) return false;
  if (
    retriable === true ||
    name === 'KafkaJSConnectionError' ||
    name === 'KafkaJSRequestTimeoutError' ||
    name === 'KafkaJSBrokerNotFound' ||
    name === 'KafkaJSConnectionClosedError'
  ) {
    return true;
  }
  // kafkajs wraps the last attempt's error when it gives up retrying.
  return isBrokerUnavailable(originalError ?? cause);
}
