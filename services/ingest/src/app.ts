import { recordAudit } from '@renkei/audit';
import { accessControl, withRedactedRequests, type AccessSettings, type TokenVerifier } from '@renkei/auth';
import { isBrokerUnavailable, type AcknowledgedSender } from '@renkei/bus';
import { isDatabaseUnavailable, type Pool } from '@renkei/db';
import { createHttpApp, type HttpApp, type HttpAppOptions, type HttpTimeouts } from '@renkei/http';
import type { HubMetrics } from '@renkei/metrics';
import type { OrganisationRegistry } from '@renkei/registry';
import type { Logger } from '@renkei/runtime';
import { importRoutes } from './routes/imports.js';
import { allowOrigins } from './cors.js';
import { reportRoutes } from './routes/reports.js';
import { SubmissionBatcher } from './submission-batcher.js';
import { tlpRoutes } from './routes/tlp.js';
import type { UnledgeredReports } from './unledgered.js';

export interface IngestDeps {
  logger: Logger;
  pool: Pool;
  /** In the service, PartitionLanes: sends that survive the loss of a broker of a cluster. */
  producer: AcknowledgedSender;
  reportsTopic: string;
  verifyToken: TokenVerifier;
  /** Every caller's organisation must be registered and enabled here; reports carry its sector. */
  registry: OrganisationRegistry;
  /** Write limits and the refused-token audit budget; defaults when left out. */
  access?: AccessSettings;
  kafkaTimeoutMs: number;
  batching?: { lingerMs: number; maxBatch: number };
  /**
   * The hub's import-id key (`deriveHubKey(secret, 'import-id')`): imported
   * reports get ids derived under it, so every ingest of one hub must have the same.
   */
  importIdKey: Uint8Array;
  /** The largest STIX bundle or MISP event accepted, in bytes. Default 32 MiB. */
  importMaxBytes?: number;
  metrics?: HubMetrics;
  /** Request, header and keep-alive timeouts; the defaults when left out. */
  timeouts?: HttpTimeouts;
  /** Whether the service can take reports (Kafka answers; PostgreSQL may be away). */
  checkReadiness: HttpAppOptions['checkReadiness'];
  /** Origins whose pages may submit and read answers (the console's). Default: none. */
  allowedOrigins?: readonly string[];
  /** Reports answered 202 without a ledger row; share it with the ledger's catch-up. */
  unledgered?: UnledgeredReports;
  /** The ledger's deadlines (`INGEST_LEDGER_TIMEOUT_MS`, `INGEST_LEDGER_RETRY_MS`). */
  ledger?: { timeoutMs: number; retryMs: number };
}

export const DEFAULT_IMPORT_MAX_BYTES = 32 * 1024 * 1024;

/**
 * The ingest API, ready to listen or to answer `inject()` in tests, with the
 * batcher its routes submit through (the partner feed poller submits through
 * it too; it closes with the app).
 */
export async function buildIngestApp(
  deps: IngestDeps,
): Promise<HttpApp & { submissions: SubmissionBatcher }> {
  const access = accessControl({
    verifyToken: deps.verifyToken,
    directory: deps.registry,
    writeAudit: (entry) => recordAudit(deps.pool, entry),
    logger: deps.logger,
    ...(deps.access ? { settings: deps.access } : {}),
  });
  const http = await createHttpApp({
    service: 'ingest',
    logger: withRedactedRequests(deps.logger),
    verifyToken: access.verifyToken,
    checkReadiness: deps.checkReadiness,
    transientErrors: [isDatabaseUnavailable, isBrokerUnavailable],
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
    openapi: {
      title: 'Renkei ingest',
      description: 'Where member organisations submit incident reports.',
    },
  });
  // Before the token check: a preflight carries no token.
  allowOrigins(http.app, deps.allowedOrigins ?? []);
  await access.install(http.app);
  const submissions = new SubmissionBatcher({
    pool: deps.pool,
    producer: deps.producer,
    topic: deps.reportsTopic,
    kafkaTimeoutMs: deps.kafkaTimeoutMs,
    lingerMs: deps.batching?.lingerMs ?? 5,
    maxBatch: deps.batching?.maxBatch ?? 200,
    logger: deps.logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.unledgered ? { unledgered: deps.unledgered } : {}),
    ...(deps.ledger ? { ledgerTimeoutMs: deps.ledger.timeoutMs, ledgerRetryMs: deps.ledger.retryMs } : {}),
  });
  // Runs once the server has finished its requests; anything still queued goes out first.
  http.app.addHook('onClose', () => submissions.close());
  reportRoutes(http.app, { pool: deps.pool, submissions });
  importRoutes(http.app, {
    submissions,
    importIdKey: deps.importIdKey,
    maxBodyBytes: deps.importMaxBytes ?? DEFAULT_IMPORT_MAX_BYTES,
  });
  tlpRoutes(http.app, {
    pool: deps.pool,
    producer: deps.producer,
    reportsTopic: deps.reportsTopic,
    kafkaTimeoutMs: deps.kafkaTimeoutMs,
    logger: deps.logger,
  });
  return Object.assign(http, { submissions });
}
