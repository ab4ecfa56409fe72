import { loadTokenVerifier } from '@renkei/auth';
import { createKafka, createReliableProducer, prepareTopics } from '@renkei/bus';
import { openMigratedPool } from '@renkei/db';
import { ReleaseStack, type Closable, type Logger } from '@renkei/runtime';
import { buildIngestApp } from './app.js';
import type { IngestConfig } from './config.js';

export interface RunningIngest extends Closable {
  url: string;
}

/**
 * Starts the ingest API. Resources open in dependency order and close in
 * reverse: stop taking requests and drain them, then Kafka, then PostgreSQL.
 */
export async function startIngest(config: IngestConfig, logger: Logger): Promise<RunningIngest> {
  const resources = new ReleaseStack();
  try {
    const pool = await resources.use(
      () => openMigratedPool(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE, logger }),
      (p) => p.end(),
    );
    const verifyToken = await loadTokenVerifier(config);
    const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'renkei-ingest', logger });
    const topics = await prepareTopics(kafka, config.KAFKA_TOPIC_PREFIX, ['reports'], {
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    });
    const producer = createReliableProducer(kafka);
    let producerConnected = false;
    producer.on(producer.events.CONNECT, () => (producerConnected = true));
    producer.on(producer.events.DISCONNECT, () => (producerConnected = false));
    await resources.use(
      () => producer.connect(),
      () => producer.disconnect(),
    );

    const http = await buildIngestApp({
      logger,
      pool,
      producer,
      reportsTopic: topics.reports,
      verifyToken,
      kafkaTimeoutMs: config.INGEST_KAFKA_TIMEOUT_MS,
      isProducerConnected: () => producerConnected,
    });
    resources.defer(() => http.close());
    const url = await http.app.listen({ host: config.HOST, port: config.INGEST_PORT });
    logger.info({ url, topic: topics.reports }, 'ingest listening');
    return { url, close: () => resources.close() };
  } catch (error) {
    await resources.close().catch(() => undefined);
    throw error;
  }
}
