import { existsSync } from 'node:fs';
import path from 'node:path';
import { startAuditSealer } from '@renkei/audit';
import { CREDENTIALS_KEY_PURPOSE } from '@renkei/partner-feeds';
import {
  accessSettingsFrom,
  deriveHubKey,
  ensureHubSecret,
  hubSecretFileIn,
  keyFilesIn,
  watchTokenVerifier,
} from '@renkei/auth';
import {
  CONSUMER_GROUPS,
  createConsumer,
  kafkaClient,
  PartitionLanes,
  prepareTopics,
  watchBroker,
} from '@renkei/bus';
import { createPool, openMigratedPool, serviceDatabaseUrl, watchDatabase } from '@renkei/db';
import { feedBounds, readFeed, startFeedFollower, startFeedRelay } from '@renkei/feed';
import { httpTimeoutsFrom, serveMetrics } from '@renkei/http';
import { createMetrics, observeHop, observePool } from '@renkei/metrics';
import { startRegistryCache } from '@renkei/registry';
import { metricsPortFor } from '@renkei/schema';
import {
  missingDependencies,
  ReleaseStack,
  RenkeiError,
  serviceHandle,
  ServiceOutcome,
  type Logger,
  stateDirectory,
  type ServiceHandle,
} from '@renkei/runtime';
import { buildGatewayApp } from './app.js';
import { startExerciseScheduler } from './exercises/scheduler.js';
import { loadWarningLists } from '@renkei/indicators/load';
import { hubCursorSealers } from './cursors.js';
import { reopenIfEscalated } from './escalation.js';
import { isLoopbackHost } from './routes/console.js';
import type { GatewayConfig } from './config.js';
import { createOriginPolicy } from './origins.js';
import { StreamHub } from './stream-hub.js';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { createMailer } from './delivery/mailer.js';
import { hostAddresses } from './delivery/webhook.js';
import { startDeliveryWorker, type DeliveryChannels } from './delivery/worker.js';

export interface RunningGateway extends ServiceHandle {
  url: string;
  /** Where `GET /metrics` answers: a listener of its own, loopback by default. */
  metricsUrl: string;
}

/**
 * Starts the gateway. Closing marks it draining, stops accepting, tells every
 * viewer to reconnect, closes the HTTP server, then Kafka, then PostgreSQL.
 */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<RunningGateway> {
  const resources = new ReleaseStack('gateway');
  const outcome = new ServiceOutcome();
  try {
    const metrics = createMetrics('gateway');
    // Migrations run as the owner (DATABASE_URL); everything else as this service's own role.
    const databaseUrl = serviceDatabaseUrl(config.DATABASE_URL, 'gateway', {
      prefix: config.DATABASE_ROLE_PREFIX,
      url: config.GATEWAY_DATABASE_URL,
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
    // The one thing an analyst asks of the gateway that its role may not do: removing an
    // archived exercise run's reports and alerts. A pool of one owner connection, opened
    // only when a purge is asked for (pg connects lazily).
    const ownerPool = await resources.use(
      async () =>
        createPool(config.DATABASE_URL, { max: 1, logger, applicationName: 'renkei-gateway-exercise-purge' }),
      (p) => p.end(),
    );
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
    // Registered early so it closes late: its last round, on close, seals what the
    // requests, workers and relay stopped before it wrote.
    await resources.use(
      async () => startAuditSealer({ pool, logger, everyMs: config.GATEWAY_AUDIT_SEAL_MS }),
      (sealer) => sealer.close(),
    );
    const kafka = kafkaClient(config, { clientId: 'renkei-gateway', principal: 'gateway', logger });
    const topics = await prepareTopics(kafka, config.KAFKA_TOPIC_PREFIX, ['feed', 'alerts'], {
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    });
    const watchOptions = { intervalMs: config.DEPENDENCY_CHECK_INTERVAL_MS, logger, onLost: outcome.fail };
    const database = await resources.use(
      () => watchDatabase(pool, { ...watchOptions, lossTimeoutMs: config.DATABASE_LOSS_TIMEOUT_MS }),
      (watch) => watch.close(),
    );
    const broker = await resources.use(
      () => watchBroker(kafka, { ...watchOptions, lossTimeoutMs: config.KAFKA_LOSS_TIMEOUT_MS }),
      (watch) => watch.close(),
    );

    // Gateways relay the feed too (one process of the hub leads), so what they
    // write reaches the stream even while no correlator runs.
    // Not a bare kafkajs producer: PartitionLanes keeps what Kafka acknowledged through a broker's loss.
    const producer = new PartitionLanes(kafka, { logger });
    await resources.use(
      () => producer.connect(),
      () => producer.disconnect(),
      'kafka',
    );
    await resources.use(
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
          // No retentionMs: the correlator's retention purge removes old feed events, in batches, audited.
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
      (relay) => relay.close(),
      'feed-relay',
    );

    // Cursors are sealed with the hub secret, so a cursor one gateway gave out opens on every other.
    const cursors = await hubCursorSealers(config.HUB_SECRET_FILE ?? hubSecretFileIn(stateDirectory()));
    // The hub and the follower start at the same position: live begins there,
    // and a client resuming from before it is replayed from PostgreSQL.
    const { head } = await feedBounds(pool);
    const hub = new StreamHub({
      position: head,
      readFeed: (after, upTo, limit) => readFeed(pool, after, limit, upTo),
      maxBufferedBytes: config.GATEWAY_MAX_BUFFERED_BYTES,
      maxSocketsPerOrganisation: config.GATEWAY_MAX_SOCKETS_PER_ORGANISATION,
      logger,
      metrics,
      cursors: cursors.feed,
    });
    // Webhooks and e-mail: one gateway of the hub leads and delivers; it plans from feed_events.
    let publicUrl = config.GATEWAY_PUBLIC_URL ?? '';
    const mailer = config.DELIVERY_SMTP_URL
      ? createMailer({
          url: config.DELIVERY_SMTP_URL,
          from: config.DELIVERY_SMTP_FROM,
          timeoutMs: config.DELIVERY_TIMEOUT_MS,
        })
      : null;
    if (mailer) resources.defer(async () => mailer.close());
    const deliveries: DeliveryChannels = {
      guard: {
        allowedHosts: config.DELIVERY_ALLOWED_HOSTS,
        ownAddresses: hostAddresses(),
        ...(config.DELIVERY_CA_FILE
          ? { ca: [...rootCertificates, readFileSync(config.DELIVERY_CA_FILE, 'utf8')] }
          : {}),
      },
      mailer,
      timeoutMs: config.DELIVERY_TIMEOUT_MS,
      linkBase: () => publicUrl,
    };
    const delivery = await resources.use(
      async () =>
        startDeliveryWorker({
          pool,
          databaseUrl,
          logger,
          channels: deliveries,
          retry: {
            baseMs: config.DELIVERY_RETRY_BASE_MS,
            capMs: config.DELIVERY_RETRY_CAP_MS,
            giveUpAfterMs: config.DELIVERY_RETRY_FOR_MS,
          },
          pollEveryMs: config.DELIVERY_POLL_MS,
          retentionMs: 30 * 86_400_000,
          metrics,
        }),
      (worker) => worker.close(),
      'delivery',
    );
    const groupId = config.KAFKA_TOPIC_PREFIX + CONSUMER_GROUPS.gatewayPrefix + config.GATEWAY_INSTANCE_ID;
    // Live fan-out: the follower starts at the feed's head and reads gaps from PostgreSQL.
    const consumer = createConsumer(kafka, {
      groupId,
      maxWaitTimeInMs: 250,
      sessionTimeout: config.GATEWAY_SESSION_TIMEOUT_MS,
      heartbeatInterval: Math.floor(config.GATEWAY_SESSION_TIMEOUT_MS / 10),
    });
    await consumer.connect();
    resources.defer(() => consumer.disconnect(), 'kafka-consumer');
    const follower = await resources.use(
      () =>
        startFeedFollower({
          pool,
          consumer,
          topic: topics.feed,
          logger,
          pollEveryMs: config.GATEWAY_FEED_POLL_MS,
          from: head,
          onFeedTopicHop: (seconds) => observeHop(metrics, 'feed-topic', seconds),
          deliver: (event, receivedAt) => {
            const delivered = hub.publish(event);
            if (receivedAt !== undefined && delivered > 0)
              observeHop(metrics, 'socket-write', (Date.now() - receivedAt) / 1000);
            if (event.kind === 'warning' || event.kind === 'alert') delivery.wake();
            // A more severe version of a closed alert reopens it; the viewers' frames are not held for it.
            if (event.kind === 'alert')
              void reopenIfEscalated(pool, event.payload, logger).catch((error: unknown) =>
                logger.warn({ err: error, alertId: event.payload.id }, 'could not reopen an escalated alert'),
              );
          },
          // Exiting is the orchestrator's opt-in, as for a lost broker; otherwise the consumer is restarted.
          ...(config.KAFKA_LOSS_TIMEOUT_MS > 0
            ? {
                onFinalCrash: (cause: Error) =>
                  outcome.fail(new RenkeiError('RENKEI_CONSUMER_CRASHED', undefined, { cause })),
              }
            : {}),
        }),
      (f) => f.close(),
    );

    const exerciseSigning = injectSigning(config);
    await resources.use(
      async () =>
        startExerciseScheduler({
          pool,
          logger,
          registry,
          ingestUrl: config.GATEWAY_INGEST_URL,
          signing: exerciseSigning,
          tickMs: config.GATEWAY_EXERCISE_TICK_MS,
          idKey: deriveHubKey(
            await ensureHubSecret(config.HUB_SECRET_FILE ?? hubSecretFileIn(stateDirectory())),
            'exercise-id',
          ),
        }),
      (scheduler) => scheduler.close(),
      'exercise-scheduler',
    );

    const origins = createOriginPolicy([
      ...(config.GATEWAY_PUBLIC_URL ? [config.GATEWAY_PUBLIC_URL] : []),
      ...config.GATEWAY_ALLOWED_ORIGINS,
    ]);
    const http = await buildGatewayApp({
      logger,
      pool,
      feedCredentialsKey: deriveHubKey(
        await ensureHubSecret(config.HUB_SECRET_FILE ?? hubSecretFileIn(stateDirectory())),
        CREDENTIALS_KEY_PURPOSE,
      ),
      databaseUrl,
      hub,
      verifyToken: tokens.verify,
      registry,
      access: accessSettingsFrom(config),
      checkReadiness: async () => missingDependencies([database, broker, follower]),
      isOriginAllowed: origins.isAllowed,
      heartbeatMs: config.GATEWAY_HEARTBEAT_MS,
      accessRecheckMs: config.GATEWAY_ACCESS_RECHECK_MS,
      taxii: {
        publicWithoutToken: config.TAXII_PUBLIC_COLLECTION,
        ingestUrl: config.GATEWAY_INGEST_URL,
        maxItems: config.TAXII_MAX_ITEMS,
        cacheMs: config.TAXII_CACHE_MS,
      },
      console: {
        distDir: config.GATEWAY_CONSOLE_DIR,
        ingestUrl: config.GATEWAY_INGEST_URL,
        devMode: config.GATEWAY_DEV_MODE ? devSigning(config, logger) : null,
      },
      metrics,
      timeouts: httpTimeoutsFrom(config),
      warningCursors: cursors.warnings,
      exerciseReports: exerciseSigning !== null,
      exercisePurgePool: ownerPool,
      searchPages: cursors.searchPages,
      warningLists: await loadWarningLists({
        extraDir: config.CORRELATOR_WARNINGLISTS_DIR,
        disabled: config.CORRELATOR_WARNINGLISTS_DISABLED,
      }),
      deliveries,
    });
    resources.defer(() => http.close());
    const url = await http.listen({ host: config.HOST, port: config.GATEWAY_PORT, onFailure: outcome.fail });
    if (!config.GATEWAY_PUBLIC_URL) origins.allowOwn(url);
    if (!publicUrl) publicUrl = url;
    const scrape = await resources.use(
      () =>
        serveMetrics(metrics, {
          host: config.METRICS_HOST,
          port: metricsPortFor(config.GATEWAY_PORT, config.METRICS_PORT),
          token: config.METRICS_TOKEN,
          logger,
        }),
      // Unnamed: not a step of the ordered shutdown, it holds nothing.
      (listener) => listener.close(),
    );
    logger.info(
      { url, metricsUrl: scrape.url, topic: topics.feed, groupId, origins: origins.list() },
      'gateway listening',
    );
    return serviceHandle(resources, outcome, { url, metricsUrl: scrape.url });
  } catch (error) {
    await resources.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Exercise report injects go through ingest as the organisation they name,
 * with a token minted for that one inject: the gateway needs the hub signing
 * key beside the public key set (as `npm run up` keeps it). Without it, a
 * scenario with report injects is refused when planned.
 */
function injectSigning(config: Pick<GatewayConfig, 'AUTH_JWKS_FILE' | 'AUTH_ISSUER' | 'AUTH_AUDIENCE'>) {
  const jwks = config.AUTH_JWKS_FILE ?? keyFilesIn(stateDirectory()).publicKeySet;
  const signingKeyFile = path.join(path.dirname(jwks), path.basename(keyFilesIn('.').signingKey));
  if (!existsSync(signingKeyFile)) return null;
  return { signingKeyFile, issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE };
}

/**
 * Development mode signs demo tokens with the key beside the public key set
 * (`renkei keys` made both). Without a readable key there is no demo sign-in,
 * said once at start rather than as a fault on every attempt.
 */
export function devSigning(
  config: Pick<GatewayConfig, 'HOST' | 'AUTH_JWKS_FILE' | 'AUTH_ISSUER' | 'AUTH_AUDIENCE'>,
  logger: Logger,
) {
  // Demo tokens need no token to ask for: only a hub reachable from this machine alone may offer them.
  if (!isLoopbackHost(config.HOST)) {
    logger.warn(
      { host: config.HOST },
      'GATEWAY_DEV_MODE=true ignored: development mode is OFF because HOST is not a loopback address ' +
        '(the gateway listens beyond this machine); no demo sign-in',
    );
    return null;
  }
  const jwks = config.AUTH_JWKS_FILE ?? keyFilesIn(stateDirectory()).publicKeySet;
  const signingKeyFile = path.join(path.dirname(jwks), path.basename(keyFilesIn('.').signingKey));
  if (!existsSync(signingKeyFile)) {
    logger.warn(
      { signingKeyFile },
      'GATEWAY_DEV_MODE: no signing key beside the key set, so no demo sign-in',
    );
    return null;
  }
  logger.warn(
    'development mode is ON: the console offers demo sign-in (tokens minted with the hub signing key ' +
      'for requests from this machine, never admin, each audited); start with GATEWAY_DEV_MODE=false to turn it off',
  );
  return { signingKeyFile, issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE };
}
