import { randomBytes } from 'node:crypto';
import { recordAudit } from '@renkei/audit';
import {
  accessControl,
  isPrincipalStillAllowed,
  withRedactedRequests,
  type Sealer,
  type AccessSettings,
  type TokenVerifier,
} from '@renkei/auth';
import { isBrokerUnavailable } from '@renkei/bus';
import { isDatabaseUnavailable, type Pool } from '@renkei/db';
import { createHttpApp, type HttpApp, type HttpAppOptions, type HttpTimeouts } from '@renkei/http';
import type { WarningListMatcher } from '@renkei/indicators';
import { loadWarningLists } from '@renkei/indicators/load';
import type { HubMetrics } from '@renkei/metrics';
import type { OrganisationRegistry } from '@renkei/registry';
import type { Logger } from '@renkei/runtime';
import type { Principal } from '@renkei/schema';
import { processCursorSealers } from './cursors.js';
import { alertRoutes } from './routes/alerts.js';
import { auditRoutes } from './routes/audit.js';
import { consoleRoutes, type ConsoleSettings } from './routes/console.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { hostAddresses } from './delivery/webhook.js';
import type { DeliveryChannels } from './delivery/worker.js';
import { exclusionRoutes } from './routes/exclusions.js';
import { GATEWAY_READ_COSTS } from './read-costs.js';
import { interopRoutes, type InteropDeps } from './routes/interop.js';
import { organisationRoutes } from './routes/organisations.js';
import { feedRoutes } from './routes/feeds.js';
import { exerciseRoutes } from './routes/exercises.js';
import { reportListRoutes } from './routes/reports.js';
import { searchRoutes } from './routes/search.js';
import { streamRoutes } from './routes/stream.js';
import { warningRoutes } from './routes/warnings.js';
import { watchlistRoutes } from './routes/watchlist.js';
import { CLOSE_CODES, type StreamHub } from './stream-hub.js';

export interface GatewayDeps {
  logger: Logger;
  pool: Pool;
  hub: StreamHub;
  verifyToken: TokenVerifier;
  /** Every caller's organisation must be registered and enabled here. */
  registry: OrganisationRegistry;
  /** Write limits, read budgets and the refused-token audit budget; defaults when left out. */
  access?: AccessSettings;
  /** Whether PostgreSQL and Kafka answer and the feed is followed live. */
  checkReadiness: HttpAppOptions['checkReadiness'];
  /** Whether a page of this origin may open the stream (undefined: no `Origin`). Default: no browsers at all. */
  isOriginAllowed?: (origin: string | undefined) => boolean;
  /**
   * Asked of every open stream every `accessRecheckMs`: false closes it with
   * 4401. Default: the token has not expired and its organisation is still
   * registered and enabled, with the same sector.
   */
  isStillAllowed?: (principal: Principal) => boolean | Promise<boolean>;
  /** How often streams are pinged; one unanswered ping drops the connection. Default 30 s. */
  heartbeatMs?: number;
  /** How often open streams are re-checked with `isStillAllowed`. Default 30 s. */
  accessRecheckMs?: number;
  /** The TAXII server's settings (anonymous reads of the CLEAR collection, where ingest is). */
  taxii?: InteropDeps['taxii'];
  /** Where the export worker connects; default: the connection string of `pool`. */
  databaseUrl?: string;
  /** The web console served at `/`; without it the gateway serves no page. */
  console?: ConsoleSettings;
  /** Request latencies go here; the service serves them on its metrics listener. */
  metrics?: HubMetrics;
  /** Request, header and keep-alive timeouts; the defaults when left out. */
  timeouts?: HttpTimeouts;
  /**
   * Seals the warnings inbox's cursors (the hub secret's `warning-cursor`
   * key). Feed cursors are sealed by the hub's own sealer (`hub.cursors`).
   * Default: a key of this process only (tests).
   */
  warningCursors?: Sealer;
  /** Whether this gateway can send report injects (it holds the hub signing key). Default: no. */
  exerciseReports?: boolean;
  /**
   * Where an archived run's items are purged: a connection as the database's
   * owner, because the purge removes reports, sightings and alerts the
   * gateway's own role may only read. Default: `pool` (tests, one role).
   */
  exercisePurgePool?: Pool;
  /** Seals search pages (the hub secret's `search-page` key). Default: a key of this process only (tests). */
  searchPages?: Sealer;
  /**
   * The warning lists the hub's correlators load, for lookups to name the one
   * that suppresses a value. Default: the shipped lists.
   */
  warningLists?: WarningListMatcher;
  /**
   * How delivery endpoints are checked and test messages sent (the service
   * passes its configuration). Default: no allow-list, no SMTP server.
   */
  deliveries?: DeliveryChannels;
  /**
   * Seals partner feeds' credentials (the hub secret's `partner-feed-credentials`
   * key), for ingest's poller to open. Default: a key of this process only (tests).
   */
  feedCredentialsKey?: Uint8Array;
}

/** The largest frame a client may send: a subscription is a few hundred bytes. */
export const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

/** The gateway's HTTP and WebSocket side, ready to listen or to answer `inject()` in tests. */
export async function buildGatewayApp(deps: GatewayDeps): Promise<HttpApp> {
  const access = accessControl({
    verifyToken: deps.verifyToken,
    directory: deps.registry,
    writeAudit: (entry) => recordAudit(deps.pool, entry),
    logger: deps.logger,
    ...(deps.access ? { settings: deps.access } : {}),
    readCosts: GATEWAY_READ_COSTS,
  });
  const http = await createHttpApp({
    service: 'gateway',
    logger: withRedactedRequests(deps.logger),
    verifyToken: access.verifyToken,
    checkReadiness: deps.checkReadiness,
    websocket: { maxPayloadBytes: MAX_CLIENT_FRAME_BYTES },
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
    transientErrors: [isDatabaseUnavailable, isBrokerUnavailable],
    openapi: {
      title: 'Renkei gateway',
      description:
        'What analysts and recipients read and act on: the live stream, alerts and their triage, warnings, ' +
        'the watchlist and exclusions, organisations, the audit log.',
    },
  });
  await access.install(http.app);
  // Once the gateway no longer accepts connections, its viewers are told to
  // reconnect (to another gateway) before it waits for the rest to finish.
  http.onDrain('websocket-clients', () =>
    deps.hub.closeAll(CLOSE_CODES.goingAway, 'gateway restarting: reconnect'),
  );
  streamRoutes(http.app, {
    hub: deps.hub,
    pool: deps.pool,
    isDraining: http.isDraining,
    isOriginAllowed: deps.isOriginAllowed ?? ((origin) => origin === undefined),
    isStillAllowed: deps.isStillAllowed ?? ((principal) => isPrincipalStillAllowed(deps.registry, principal)),
    heartbeatMs: deps.heartbeatMs ?? 30_000,
    accessRecheckMs: deps.accessRecheckMs ?? 30_000,
  });
  alertRoutes(http.app, { pool: deps.pool, cursors: deps.hub.cursors });
  warningRoutes(http.app, {
    pool: deps.pool,
    warningCursors: deps.warningCursors ?? processCursorSealers().warnings,
  });
  deliveryRoutes(http.app, {
    pool: deps.pool,
    channels: deps.deliveries ?? {
      guard: { allowedHosts: [], ownAddresses: hostAddresses() },
      mailer: null,
      timeoutMs: 10_000,
      linkBase: () => '',
    },
  });
  organisationRoutes(http.app, deps);
  feedRoutes(http.app, {
    pool: deps.pool,
    registry: deps.registry,
    credentialsKey: deps.feedCredentialsKey ?? randomBytes(32),
  });
  auditRoutes(http.app, deps);
  watchlistRoutes(http.app, deps);
  exclusionRoutes(http.app, deps);
  interopRoutes(http.app, deps);
  reportListRoutes(http.app, deps);
  exerciseRoutes(http.app, {
    ...deps,
    canSendReports: deps.exerciseReports ?? false,
    purgePool: deps.exercisePurgePool ?? deps.pool,
  });
  searchRoutes(http.app, {
    pool: deps.pool,
    searchPages: deps.searchPages ?? processCursorSealers().searchPages,
    warningLists: deps.warningLists ?? (await loadWarningLists({ extraDir: undefined, disabled: [] })),
  });
  consoleRoutes(http.app, deps);
  return http;
}
