import { auditKeyFilesIn, loadAuditSigner } from '@renkei/audit';
import {
  CONSUMER_GROUPS,
  createConsumer,
  kafkaClient,
  PartitionLanes,
  prepareTopics,
  watchBroker,
} from '@renkei/bus';
import { lockKeys } from '@renkei/correlation';
import {
  isDatabaseUnavailable,
  openMigratedPool,
  serviceDatabaseUrl,
  watchDatabase,
  type PoolClient,
} from '@renkei/db';
import { indicatorKey, type CanonicalIndicator } from '@renkei/indicators';
import { startRetention, topicRetentionMs } from '@renkei/retention';
import { startFeedRelay } from '@renkei/feed';
import { createHttpApp, httpTimeoutsFrom, serveMetrics } from '@renkei/http';
import { createMetrics, observeHop, observePool } from '@renkei/metrics';
import { metricsPortFor } from '@renkei/schema';
import {
  missingDependencies,
  ReleaseStack,
  RenkeiError,
  serviceHandle,
  ServiceOutcome,
  stateDirectory,
  type Logger,
  type ServiceHandle,
} from '@renkei/runtime';
import { AlertCache } from './alert-cache.js';
import { correlationSettings, correlatorRetention, type CorrelatorConfig } from './config.js';
import { runCorrelator } from './correlator.js';
import { lockIdsFor } from './locks.js';
import { takeAdvisoryLocks } from './store.js';
import { startWatchlistBackfill } from './watchlist.js';
import { loadWarningLists } from '@renkei/indicators/load';

export interface RunningCorrelator extends ServiceHandle {
  /** Where `/healthz` and `/readyz` answer. */
  url: string;
  /** Where `GET /metrics` answers: a listener of its own, loopback by default. */
  metricsUrl: string;
}

/**
 * Starts the correlator. Closing marks it draining and closes its health
 * port, stops consuming (committing what was processed), lets the feed relay
 * finish its round, then closes Kafka and PostgreSQL.
 */
export async function startCorrelator(config: CorrelatorConfig, logger: Logger): Promise<RunningCorrelator> {
  const resources = new ReleaseStack('correlator');
  const outcome = new ServiceOutcome();
  try {
    const settings = correlationSettings(config);
    const retention = correlatorRetention(config);
    const metrics = createMetrics('correlator');
    const warningLists = await loadWarningLists({
      extraDir: config.CORRELATOR_WARNINGLISTS_DIR,
      disabled: config.CORRELATOR_WARNINGLISTS_DISABLED,
    });
    logger.info({ warningLists: warningLists.lists }, 'warning lists loaded');
    // Migrations run as the owner (DATABASE_URL); everything else as this service's own role.
    const databaseUrl = serviceDatabaseUrl(config.DATABASE_URL, 'correlator', {
      prefix: config.DATABASE_ROLE_PREFIX,
      url: config.CORRELATOR_DATABASE_URL,
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
    const kafka = kafkaClient(config, { clientId: 'renkei-correlator', principal: 'correlator', logger });
    const topics = await prepareTopics(
      kafka,
      config.KAFKA_TOPIC_PREFIX,
      ['reports', 'alerts', 'feed', 'reportsDeadLetter'],
      // The topics keep what the store keeps (README "Retention"): set here, where the purge runs.
      { replicationFactor: config.KAFKA_REPLICATION_FACTOR, retentionMs: topicRetentionMs(retention) },
    );
    const watchOptions = { intervalMs: config.DEPENDENCY_CHECK_INTERVAL_MS, logger, onLost: outcome.fail };
    const database = await resources.use(
      () => watchDatabase(pool, { ...watchOptions, lossTimeoutMs: config.DATABASE_LOSS_TIMEOUT_MS }),
      (watch) => watch.close(),
    );
    const broker = await resources.use(
      () => watchBroker(kafka, { ...watchOptions, lossTimeoutMs: config.KAFKA_LOSS_TIMEOUT_MS }),
      (watch) => watch.close(),
    );

    // Not a bare kafkajs producer: PartitionLanes keeps what Kafka acknowledged through a broker's loss.
    const producer = new PartitionLanes(kafka, { logger });
    await resources.use(
      () => producer.connect(),
      () => producer.disconnect(),
      'kafka',
    );
    const relay = await resources.use(
      () =>
        startFeedRelay({
          pool,
          databaseUrl,
          producer,
          topics,
          logger,
          sweepEveryMs: config.FEED_SWEEP_MS,
          databaseLossTimeoutMs: config.DATABASE_LOSS_TIMEOUT_MS,
          brokerLossTimeoutMs: config.KAFKA_LOSS_TIMEOUT_MS,
          // No retentionMs: the retention purge below removes old feed events, in batches, audited.
          onFailure: outcome.fail,
          onHops: (hop, seconds) => {
            for (const value of seconds) observeHop(metrics, hop, value);
          },
          onPublished: ({ feed, alerts }) => {
            metrics.feedPublished.inc(feed);
            metrics.kafkaProduced.inc({ topic: topics.feed }, feed);
            if (alerts > 0) metrics.kafkaProduced.inc({ topic: topics.alerts }, alerts);
          },
        }),
      (r) => r.close(),
      'feed-relay',
    );

    await resources.use(
      async () =>
        startWatchlistBackfill({
          pool,
          settings,
          logger,
          pollMs: config.CORRELATOR_WATCHLIST_POLL_MS,
          onAlerts: () => relay.wake(),
        }),
      (backfill) => backfill.close(),
      'watchlist-backfill',
    );

    // Here rather than in the gateway: the correlator writes reports and alerts, and the purge
    // takes the same advisory locks a report transaction takes, so the two never race.
    await resources.use(
      async () =>
        startRetention({
          pool,
          databaseUrl,
          settings: retention,
          logger,
          metrics,
          lockReports: lockReportsLikeCorrelation,
          // The process that purges signs the audit chain's checkpoints; the key is read
          // (or made) only when an audit entry is first due.
          auditSigner: () => loadAuditSigner(auditKeyFilesIn(stateDirectory())),
        }),
      (runner) => runner.close(),
      'retention',
    );

    const groupId = config.KAFKA_TOPIC_PREFIX + CONSUMER_GROUPS.correlator;
    const consumer = createConsumer(kafka, {
      groupId,
      sessionTimeout: config.CORRELATOR_SESSION_TIMEOUT_MS,
      heartbeatInterval: Math.floor(config.CORRELATOR_SESSION_TIMEOUT_MS / 10),
      // A fetch waits at most this long for data; shutdown waits for the fetch in flight.
      maxWaitTimeInMs: 1_000,
    });
    await consumer.connect();
    resources.defer(() => consumer.disconnect(), 'kafka-consumer');
    const consuming = await runCorrelator({
      pool,
      consumer,
      producer,
      topics,
      logger,
      onAlerts: () => relay.wake(),
      isRunning: () => !resources.closing,
      context: { settings, warningLists, alertCache: new AlertCache() },
      chunkSize: config.CORRELATOR_BATCH_SIZE,
      groupId,
      metrics,
      // Exiting is the orchestrator's opt-in, as for a lost broker; otherwise the consumer is restarted.
      ...(config.KAFKA_LOSS_TIMEOUT_MS > 0
        ? {
            onFinalCrash: (cause: Error) =>
              outcome.fail(new RenkeiError('RENKEI_CONSUMER_CRASHED', undefined, { cause })),
          }
        : {}),
    });
    resources.defer(() => consuming.close());

    const http = await createHttpApp({
      service: 'correlator',
      logger,
      metrics,
      checkReadiness: async () => missingDependencies([database, broker, consuming]),
      transientErrors: [isDatabaseUnavailable],
      timeouts: httpTimeoutsFrom(config),
    });
    resources.defer(() => http.close());
    const url = await http.listen({
      host: config.HOST,
      port: config.CORRELATOR_PORT,
      onFailure: outcome.fail,
    });
    const scrape = await resources.use(
      () =>
        serveMetrics(metrics, {
          host: config.METRICS_HOST,
          port: metricsPortFor(config.CORRELATOR_PORT, config.METRICS_PORT),
          token: config.METRICS_TOKEN,
          logger,
        }),
      // Unnamed: not a step of the ordered shutdown, it holds nothing.
      (listener) => listener.close(),
    );
    logger.info({ url, metricsUrl: scrape.url, topic: topics.reports, groupId }, 'correlator consuming');
    return serviceHandle(resources, outcome, { url, metricsUrl: scrape.url });
  } catch (error) {
    await resources.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The advisory locks a report transaction takes for these reports (their
 * unsuppressed indicators, their sector and category), sorted like every
 * other lock set: the purge holds them while it removes the reports, or an
 * alert holding them, so no report being correlated meanwhile can start to
 * hold one (a backdated report can still correlate with an old one).
 */
async function lockReportsLikeCorrelation(db: PoolClient, reportIds: readonly string[]): Promise<void> {
  if (reportIds.length === 0) return;
  const { rows } = await db.query<{
    exercise: boolean;
    sector: Parameters<typeof lockKeys.sector>[1];
    category: Parameters<typeof lockKeys.sector>[2];
    type: CanonicalIndicator['type'] | null;
    value: string | null;
  }>(
    `SELECT r.exercise, r.sector, r.category, s.type, s.value
       FROM reports r LEFT JOIN sightings s ON s.report_id = r.id AND s.suppressed_by IS NULL
      WHERE r.id = ANY($1::uuid[])`,
    [reportIds],
  );
  const keys = rows.flatMap((row) => [
    lockKeys.sector(row.exercise, row.sector, row.category),
    ...(row.type !== null && row.value !== null
      ? [lockKeys.indicator(row.exercise, indicatorKey({ type: row.type, value: row.value }))]
      : []),
  ]);
  await takeAdvisoryLocks(db, lockIdsFor(keys));
}
