import { createConsumer, createKafka, createReliableProducer, prepareTopics } from '@renkei/bus';
import { openMigratedPool } from '@renkei/db';
import { ReleaseStack, type Closable, type Logger } from '@renkei/runtime';
import type { CorrelatorConfig } from './config.js';
import { runCorrelator } from './correlator.js';
import { startAlertPublisher } from './outbox.js';

/**
 * Starts the correlator. Closing stops consuming first (committing what was
 * processed), then drains the outbox, then closes Kafka and PostgreSQL.
 */
export async function startCorrelator(config: CorrelatorConfig, logger: Logger): Promise<Closable> {
  const resources = new ReleaseStack();
  try {
    const pool = await resources.use(
      () => openMigratedPool(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE, logger }),
      (p) => p.end(),
    );
    const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'renkei-correlator', logger });
    const topics = await prepareTopics(
      kafka,
      config.KAFKA_TOPIC_PREFIX,
      ['reports', 'alerts', 'reportsDeadLetter'],
      { replicationFactor: config.KAFKA_REPLICATION_FACTOR },
    );

    const producer = createReliableProducer(kafka);
    await resources.use(
      () => producer.connect(),
      () => producer.disconnect(),
    );
    const publisher = await resources.use(
      () =>
        startAlertPublisher({
          pool,
          producer,
          topic: topics.alerts,
          logger,
          sweepEveryMs: config.CORRELATOR_OUTBOX_SWEEP_MS,
        }),
      (p) => p.close(),
    );
    const consumer = createConsumer(kafka, {
      groupId: `${config.KAFKA_TOPIC_PREFIX}renkei-correlator`,
      sessionTimeout: config.CORRELATOR_SESSION_TIMEOUT_MS,
      heartbeatInterval: Math.floor(config.CORRELATOR_SESSION_TIMEOUT_MS / 10),
    });
    await consumer.connect();
    resources.defer(() => consumer.disconnect());
    await runCorrelator({ pool, consumer, producer, topics, publisher, logger });
    logger.info(
      { topic: topics.reports, groupId: `${config.KAFKA_TOPIC_PREFIX}renkei-correlator` },
      'correlator consuming',
    );
    return { close: () => resources.close() };
  } catch (error) {
    await resources.close().catch(() => undefined);
    throw error;
  }
}
