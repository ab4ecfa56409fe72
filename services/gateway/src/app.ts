import type { TokenVerifier } from '@renkei/auth';
import { isBrokerUnavailable } from '@renkei/bus';
import { isDatabaseUnavailable, type Pool } from '@renkei/db';
import { createHttpApp, type HttpApp } from '@renkei/http';
import type { Logger } from '@renkei/runtime';
import { alertRoutes } from './routes/alerts.js';
import { exclusionRoutes } from './routes/exclusions.js';
import { streamRoutes } from './routes/stream.js';
import { watchlistRoutes } from './routes/watchlist.js';
import { CLOSE_CODES, type StreamHub } from './stream-hub.js';

export interface GatewayDeps {
  logger: Logger;
  pool: Pool;
  hub: StreamHub;
  verifyToken: TokenVerifier;
  /** Whether PostgreSQL and Kafka answer and the feed is followed live. */
  checkReadiness: () => Promise<boolean>;
}

const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

/** The gateway's HTTP and WebSocket side, ready to listen or to answer `inject()` in tests. */
export async function buildGatewayApp(deps: GatewayDeps): Promise<HttpApp> {
  const http = await createHttpApp({
    service: 'gateway',
    logger: deps.logger,
    verifyToken: deps.verifyToken,
    checkReadiness: deps.checkReadiness,
    websocket: { maxPayloadBytes: MAX_CLIENT_FRAME_BYTES },
    transientErrors: [isDatabaseUnavailable, isBrokerUnavailable],
    openapi: {
      title: 'Renkei gateway',
      description: 'What analysts and recipients read and act on: the live stream and the alerts.',
    },
  });
  // Once the gateway no longer accepts connections, its viewers are told to
  // reconnect (to another gateway) before it waits for the rest to finish.
  http.onDrain('websocket-clients', () =>
    deps.hub.closeAll(CLOSE_CODES.goingAway, 'gateway restarting: reconnect'),
  );
  streamRoutes(http.app, { hub: deps.hub, isDraining: http.isDraining });
  alertRoutes(http.app, deps);
  watchlistRoutes(http.app, deps);
  exclusionRoutes(http.app, deps);
  return http;
}
