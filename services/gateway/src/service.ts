import { loadTokenVerifier } from '@renkei/auth';
import { createConsumer, createKafka, prepareTopics } from '@renkei/bus';
import { openMigratedPool } from '@renkei/db';
import { ReleaseStack, type Logger } from '@renkei/runtime';
import { startAlertsFeed } from './alerts-feed.js';
import { buildGatewayApp } from './app.js';
import type { GatewayConfig } from './config.js';
import { CLOSE_CODES, StreamHub } from './stream-hub.js';

export interface RunningGateway {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the gateway. Closing marks it draining, tells every viewer it is
 * going away, closes the HTTP server, then Kafka, then PostgreSQL.
 */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<RunningGateway> {
  const resources = new ReleaseStack();
  try {
    const pool = await resources.use(
      () => openMigratedPool(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE, logger }),
      (p) => p.end(),
    );
    const verifyToken = await loadTokenVerifier(config);
    const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'renkei-gateway', logger });
    const topics = await prepareTopics(kafka, config.KAFKA_TOPIC_PREFIX, ['alerts'], {
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    });

    const hub = new StreamHub({ maxBufferedBytes: config.GATEWAY_MAX_BUFFERED_BYTES, logger });
    const groupId = `${config.KAFKA_TOPIC_PREFIX}renkei-gateway.${config.GATEWAY_INSTANCE_ID}`;
    // Live fan-out only: the position is never committed, a restarted gateway starts at the end.
    const consumer = createConsumer(kafka, { groupId, maxWaitTimeInMs: 250 });
    await consumer.connect();
    resources.defer(() => consumer.disconnect());
    const feed = await startAlertsFeed({ consumer, topic: topics.alerts, hub, logger });

    const http = await buildGatewayApp({
      logger,
      pool,
      hub,
      verifyToken,
      isFeedLive: () => feed.isLive(),
    });
    resources.defer(() => http.close());
    resources.defer(() => hub.closeAll(CLOSE_CODES.goingAway, 'gateway restarting: reconnect'));
    const url = await http.app.listen({ host: config.HOST, port: config.GATEWAY_PORT });
    logger.info({ url, topic: topics.alerts, groupId }, 'gateway listening');
    return { url, close: () => resources.close() };
  } catch (error) {
    await resources.close().catch(() => undefined);
    throw error;
  }
}
