import { randomUUID } from 'node:crypto';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { authenticateRequests, type TokenVerifier } from '@renkei/auth';
import type { Logger } from '@renkei/runtime';
import { installErrorReplies } from './errors.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpAppOptions {
  logger: Logger;
  verifyToken: TokenVerifier;
  /** Resolves when every dependency answers; rejects (or returns false) otherwise. */
  checkReadiness: () => Promise<boolean>;
  /** Accept WebSocket upgrades, with this limit on a client's frames. */
  websocket?: { maxPayloadBytes: number };
}

export interface HttpApp {
  app: FastifyInstance;
  /** Marks the service as draining: readiness fails at once so balancers stop sending. */
  beginDrain(): void;
  /**
   * Stops accepting, waits for requests in flight, and after `graceMs` cuts
   * whatever connections are still open, so no client can hold shutdown hostage.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * A Fastify instance with what every HTTP service of the hub needs. Routes are
 * added by the caller; `/healthz` (the process lives) and `/readyz` (its
 * dependencies answer and it is not draining) need no token.
 */
export async function createHttpApp({
  logger,
  verifyToken,
  checkReadiness,
  websocket: websocketOptions,
}: HttpAppOptions): Promise<HttpApp> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger at run time; the cast keeps the instance's default generics.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: MAX_BODY_BYTES,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Health probes and the stream's upgrade need no trailing-slash pedantry.
    routerOptions: { ignoreTrailingSlash: true },
    forceCloseConnections: 'idle',
  });
  let draining = false;
  // The hub speaks JSON only; without this, Fastify's default text/plain parser
  // would turn a wrong content type into a confusing validation error.
  app.removeContentTypeParser('text/plain');
  installErrorReplies(app);
  if (websocketOptions) {
    // Before authentication: the plugin's own hooks must see every upgrade,
    // refused ones included, or a refused upgrade's socket is never closed.
    await app.register(websocket, { options: { maxPayload: websocketOptions.maxPayloadBytes } });
  }
  authenticateRequests(app, verifyToken);

  // While draining, every answer closes its connection, so keep-alive sockets
  // do not outlive the requests in flight and hold the close back.
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });

  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { public: true } }, async (_request, reply) => {
    if (draining) return reply.status(503).send({ status: 'draining' });
    const ready = await checkReadiness().catch(() => false);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready' });
  });

  return {
    app,
    beginDrain: () => {
      draining = true;
    },
    async close(graceMs = 10_000) {
      draining = true;
      const cut = setTimeout(() => app.server.closeAllConnections(), graceMs);
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
      }
    },
  };
}
