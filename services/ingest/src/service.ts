import {
  accessSettingsFrom,
  deriveHubKey,
  ensureHubSecret,
  hubSecretFileIn,
  watchTokenVerifier,
} from '@renkei/auth';
import { CONSUMER_GROUPS, kafkaClient, PartitionLanes, prepareTopics, watchBroker } from '@renkei/bus';
import { openMigratedPool, serviceDatabaseUrl, watchDatabase } from '@renkei/db';
import { httpTimeoutsFrom, serveMetrics } from '@renkei/http';
import { createMetrics, observePool } from '@renkei/metrics';
import { CREDENTIALS_KEY_PURPOSE } from '@renkei/partner-feeds';
import { startRegistryCache } from '@renkei/registry';
import {
  ReleaseStack,
  RenkeiError,
  serviceHandle,
  ServiceOutcome,
  stateDirectory,
  type Logger,
  type ServiceHandle,
  missingDependencies,
} from '@renkei/runtime';
import { buildIngestApp } from './app.js';
import { startLedgerCatchUp } from './ledger-catch-up.js';
import { startPartnerFeedPoller } from './partner-feeds.js';
import { UnledgeredReports } from './unledgered.js';
import type { IngestConfig } from './config.js';
import { metricsPortFor } from '@renkei/schema';

export interface RunningIngest extends ServiceHandle {
  url: string;
  /** Where `GET /metrics` answers: a listener of its own, loopback by default. */
  metricsUrl: string;
}

/**
 * Starts the ingest API. Resources open in dependency order and close in
 * reverse: mark draining, stop accepting and finish the requests in flight,
 * then Kafka, then PostgreSQL.
 */
export async function startIngest(config: IngestConfig, logger: Logger): Promise<RunningIngest> {
  const resources = new ReleaseStack('ingest');
  const outcome = new ServiceOutcome();
  try {
    const metrics = createMetrics('ingest');
    const hubSecret = await ensureHubSecret(config.HUB_SECRET_FILE ?? hubSecretFileIn(stateDirectory()));
    // Migrations run as the owner (DATABASE_URL); everything else as this service's own role.
    const databaseUrl = serviceDatabaseUrl(config.DATABASE_URL, 'ingest', {
      prefix: config.DATABASE_ROLE_PREFIX,
      url: config.INGEST_DATABASE_URL,
    });
    const pool = await resources.use(
      () =>
        openMigratedPool(config.DATABASE_URL, {
          workAs: databaseUrl,
          rolePrefix: config.DATABASE_ROLE_PREFIX,
          max: config.DATABASE_POOL_SIZE,
          logger,
          lossTimeoutMs: config.DATABASE_LOSS_TIMEOUT_MS,
        }),
      (p) => p.end(),
      'postgres',
    );
    observePool(metrics, pool);
    const tokens = await resources.use(
      () => watchTokenVerifier(config, logger),
      (t) => t.close(),
    );
    const registry = await resources.use(
      () =>
        startRegistryCache({
          pool,
          databaseUrl,
          logger,
          pollEveryMs: config.REGISTRY_POLL_MS,
        }),
      (r) => r.close(),
    );
    const kafka = kafkaClient(config, { clientId: 'renkei-ingest', principal: 'ingest', logger });
    const topics = await prepareTopics(kafka, config.KAFKA_TOPIC_PREFIX, ['reports'], {
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    });
    const watchOptions = { intervalMs: config.DEPENDENCY_CHECK_INTERVAL_MS, logger, onLost: outcome.fail };
    // Intake goes on without PostgreSQL (Kafka holds the reports and the
    // ledger catches up from it), so losing it is not a reason to stop.
    await resources.use(
      () =>
        watchDatabase(pool, {
          ...watchOptions,
          lossTimeoutMs: config.DATABASE_LOSS_TIMEOUT_MS,
          onLost: (error) =>
            logger.error(
              { err: error, code: error.code },
              'PostgreSQL is still away: reports are accepted on Kafka alone; reads and TLP changes answer 503',
            ),
        }),
      (watch) => watch.close(),
    );
    const broker = await resources.use(
      () => watchBroker(kafka, { ...watchOptions, lossTimeoutMs: config.KAFKA_LOSS_TIMEOUT_MS }),
      (watch) => watch.close(),
    );
    // Not a bare kafkajs producer: PartitionLanes keeps acknowledged reports through a broker's loss.
    const producer = new PartitionLanes(kafka, { logger });
    await resources.use(
      () => producer.connect(),
      () => producer.disconnect(),
      'kafka',
    );

    const unledgered = new UnledgeredReports();
    await resources.use(
      () =>
        startLedgerCatchUp({
          kafka,
          topic: topics.reports,
          groupId: config.KAFKA_TOPIC_PREFIX + CONSUMER_GROUPS.ingestLedger,
          pool,
          unledgered,
          logger,
          metrics,
          onCrash: (cause) => outcome.fail(new RenkeiError('RENKEI_CONSUMER_CRASHED', undefined, { cause })),
        }),
      // Closed after the HTTP server has finished its requests, before the producer.
      (catchUp) => catchUp.close(),
    );

    const importIdKey = deriveHubKey(hubSecret, 'import-id');
    const http = await buildIngestApp({
      logger,
      pool,
      producer,
      reportsTopic: topics.reports,
      verifyToken: tokens.verify,
      registry,
      access: accessSettingsFrom(config),
      kafkaTimeoutMs: config.INGEST_KAFKA_TIMEOUT_MS,
      batching: { lingerMs: config.INGEST_BATCH_LINGER_MS, maxBatch: config.INGEST_BATCH_MAX },
      importIdKey,
      importMaxBytes: config.INGEST_IMPORT_MAX_BYTES,
      metrics,
      timeouts: httpTimeoutsFrom(config),
      allowedOrigins: config.INGEST_ALLOWED_ORIGINS,
      unledgered,
      ledger: { timeoutMs: config.INGEST_LEDGER_TIMEOUT_MS, retryMs: config.INGEST_LEDGER_RETRY_MS },
      // Ready while Kafka answers: without PostgreSQL it still takes reports.
      checkReadiness: async () => missingDependencies([broker]),
    });
    resources.defer(() => http.close());
    // Stopped before the app closes: the poller submits through the app's batcher.
    await resources.use(
      async () =>
        startPartnerFeedPoller({
          pool,
          databaseUrl,
          logger,
          metrics,
          registry,
          imports: { submissions: http.submissions, importIdKey },
          credentialsKey: deriveHubKey(hubSecret, CREDENTIALS_KEY_PURPOSE),
          checkEveryMs: config.PARTNER_FEED_CHECK_MS,
          backoff: { retryBaseMs: config.PARTNER_FEED_RETRY_BASE_MS },
          http: {
            timeoutMs: config.PARTNER_FEED_HTTP_TIMEOUT_MS,
            maxBytes: config.PARTNER_FEED_MAX_RESPONSE_BYTES,
          },
          pageLimit: config.PARTNER_FEED_PAGE_LIMIT,
          maxObjects: config.PARTNER_FEED_MAX_OBJECTS,
          maxEvents: config.PARTNER_FEED_MAX_EVENTS,
        }),
      (poller) => poller.close(),
    );
    const url = await http.listen({ host: config.HOST, port: config.INGEST_PORT, onFailure: outcome.fail });
    const scrape = await resources.use(
      () =>
        serveMetrics(metrics, {
          host: config.METRICS_HOST,
          port: metricsPortFor(config.INGEST_PORT, config.METRICS_PORT),
          token: config.METRICS_TOKEN,
          logger,
        }),
      // Unnamed: not a step of the ordered shutdown, it holds nothing.
      (listener) => listener.close(),
    );
    logger.info({ url, metricsUrl: scrape.url, topic: topics.reports }, 'ingest listening');
    return serviceHandle(resources, outcome, { url, metricsUrl: scrape.url });
  } catch (error) {
    await resources.close().catch(() => undefined);
    throw error;
  }
}
