import type { TokenVerifier } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { createHttpApp, type HttpApp } from '@renkei/http';
import type { Logger } from '@renkei/runtime';
import { alertRoutes } from './routes/alerts.js';
import { streamRoutes } from './routes/stream.js';
import type { StreamHub } from './stream-hub.js';

export interface GatewayDeps {
  logger: Logger;
  pool: Pool;
  hub: StreamHub;
  verifyToken: TokenVerifier;
  /** Whether alerts published now would reach this gateway. */
  isFeedLive: () => boolean;
}

const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

export async function buildGatewayApp(deps: GatewayDeps): Promise<HttpApp> {
  const http = await createHttpApp({
    logger: deps.logger,
    verifyToken: deps.verifyToken,
    checkReadiness: async () => {
      await deps.pool.query('SELECT 1');
      return deps.isFeedLive();
    },
    websocket: { maxPayloadBytes: MAX_CLIENT_FRAME_BYTES },
  });
  streamRoutes(http.app, deps);
  alertRoutes(http.app, deps);
  return http;
}
