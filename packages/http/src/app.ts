import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  createJsonSchemaTransform,
  createJsonSchemaTransformObject,
  serializerCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authenticateRequests, type TokenVerifier } from '@renkei/auth';
import type { HubMetrics } from '@renkei/metrics';
import { publishLifecycleStep, RenkeiError, type Logger } from '@renkei/runtime';
import {
  clientErrorReply,
  frameworkErrorReply,
  installErrorReplies,
  type TransientErrorTest,
} from './errors.js';
import { requestAnnotations } from './annotations.js';
import { installJsonBodyParser } from './json-body.js';
import { zodValidatorCompiler } from './validation.js';

/**
 * Connections the kernel completes and queues before the event loop accepts
 * them. Past Node's default (511) the kernel drops further handshakes and
 * their clients retry only after 1, 3 and 7 s. In the three-broker fault drill
 * a thousand clients connecting to a busy ingest at once timed out connecting
 * while ingest answered every request it saw; a deeper queue takes that cause
 * away, and the fault run counts the kernel's listen-queue overflows to show
 * whether it was the one. The kernel caps the value at `net.core.somaxconn`.
 */
const LISTEN_BACKLOG = 4096;

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * How long a client may take. Without them a client sending one byte every
 * few seconds holds a connection (and, once its headers are in, a request)
 * for ever, even after it was refused.
 */
export interface HttpTimeouts {
  /** From the first byte of a request to its last: past it the request is cut with a 408. */
  requestMs: number;
  /** From the first byte of a request to the end of its headers; at most `requestMs`. */
  headersMs: number;
  /** How long a keep-alive connection may sit idle between requests before it is closed. */
  keepAliveMs: number;
}

/** A slow body is cut within 30 s of its first byte: 25 s, checked every second. */
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  requestMs: 25_000,
  headersMs: 10_000,
  keepAliveMs: 5_000,
};

/**
 * How loud a WebSocket's error is: a frame that breaks the protocol (too
 * large, not UTF-8, a bad opcode) is a client's bug, worth a warning; a
 * connection the client dropped is routine; anything else is the hub's.
 */
export function websocketErrorLevel(error: unknown): 'info' | 'warn' | 'error' {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'error';
  if (code.startsWith('WS_ERR_')) return 'warn';
  if (['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT'].includes(code)) return 'info';
  return 'error';
}

/** The timeouts a service takes from its configuration (`httpEnv`). */
export function httpTimeoutsFrom(config: {
  HTTP_REQUEST_TIMEOUT_MS: number;
  HTTP_HEADERS_TIMEOUT_MS: number;
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number;
}): HttpTimeouts {
  return {
    requestMs: config.HTTP_REQUEST_TIMEOUT_MS,
    headersMs: config.HTTP_HEADERS_TIMEOUT_MS,
    keepAliveMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
  };
}

/** Security headers of the documentation pages; swagger-ui needs inline style attributes and data: images. */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** A Fastify instance whose routes declare zod schemas: they validate, type and document each route. */
export type HttpServer = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface HttpAppOptions {
  /** Names the service in lifecycle steps and the OpenAPI document. */
  service: string;
  logger: Logger;
  /** Verifies bearer tokens on every route not marked public; without it every route is public. */
  verifyToken?: TokenVerifier;
  /**
   * Resolves true when every dependency answers, or to the names of those
   * that do not (`{ missing: ['postgres'] }`; an empty list is ready), which
   * `/readyz` then reports.
   */
  checkReadiness: () => Promise<boolean | { missing: readonly string[] }>;
  /** Accept WebSocket upgrades, with this limit on a client's frames. */
  websocket?: { maxPayloadBytes: number };
  /** Failures of dependencies a retry can get past: answered 503 with Retry-After. */
  transientErrors?: TransientErrorTest[];
  /** Times every request into these; they are served by {@link serveMetrics}, not by this app. */
  metrics?: HubMetrics;
  /** Request, header and keep-alive timeouts; {@link DEFAULT_HTTP_TIMEOUTS} when left out. */
  timeouts?: HttpTimeouts;
  /** Publishes `/openapi.json` and a browsable reference at `/docs`. */
  openapi?: { title: string; description: string; version?: string };
}

export interface HttpApp {
  app: HttpServer;
  /** Listens; a later failure of the server (not of a request) is passed to `onFailure`. */
  listen(options: { host: string; port: number; onFailure: (error: RenkeiError) => void }): Promise<string>;
  /** Marks the service as draining: readiness fails at once so balancers stop sending. */
  beginDrain(): void;
  isDraining(): boolean;
  /** Every route registered, as `METHOD /path` (HEAD and the documentation's own routes left out). */
  readonly routes: readonly string[];
  /** Runs after the server stopped accepting and before it waits for open connections. */
  onDrain(step: string, action: () => Promise<void> | void): void;
  /**
   * The ordered shutdown of the HTTP side: mark draining, stop accepting, run
   * the drain actions (tell WebSocket clients to reconnect), then wait for
   * requests in flight, cutting what is still open after `graceMs`.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * A Fastify instance with what every HTTP service of the hub needs. Routes are
 * added by the caller; `/healthz` (the process lives) and `/readyz` (its
 * dependencies answer and it is not draining) need no token.
 */
export async function createHttpApp({
  service,
  logger,
  verifyToken,
  checkReadiness,
  websocket: websocketOptions,
  transientErrors = [],
  metrics,
  openapi,
  timeouts = DEFAULT_HTTP_TIMEOUTS,
}: HttpAppOptions): Promise<HttpApp> {
  const headersMs = Math.min(timeouts.headersMs, timeouts.requestMs);
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger at run time; the cast keeps the instance's default generics.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: MAX_BODY_BYTES,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Health probes and the stream's upgrade need no trailing-slash pedantry.
    routerOptions: { ignoreTrailingSlash: true },
    forceCloseConnections: 'idle',
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    http: {
      headersTimeout: headersMs,
      requestTimeout: timeouts.requestMs,
      // Node looks for requests past their time this often (30 s by default,
      // which would let a slow body live for a minute).
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(headersMs / 4))),
    },
    clientErrorHandler: clientErrorReply,
    // A malformed percent-encoding in the path, a too long path parameter: the hub's body, not Fastify's.
    frameworkErrors: frameworkErrorReply,
    // One line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  let draining = false;
  const routes: string[] = [];
  app.addHook('onRoute', (route) => {
    const hidden =
      (route.schema as { hide?: boolean } | undefined)?.hide === true || route.url.startsWith('/docs');
    if (hidden) return;
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
  });
  const isTransient: TransientErrorTest = (error) => transientErrors.some((test) => test(error));
  // The hub speaks JSON only: without a text/plain parser a wrong content type is a 415.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app);
  installErrorReplies(app, isTransient);

  if (openapi) {
    // Documentation pages are public, whoever serves them, and get the console's protections.
    app.addHook('onRoute', (route) => {
      if (route.url.startsWith('/docs')) route.config = { ...route.config, public: true };
    });
    app.addHook('onSend', async (request, reply) => {
      const path = request.url.split('?')[0]!;
      if (path !== '/docs' && !path.startsWith('/docs/') && path !== '/openapi.json') return;
      reply
        .header('content-security-policy', DOCS_CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .header('x-frame-options', 'DENY')
        .header('referrer-policy', 'no-referrer');
    });
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: openapi.title, description: openapi.description, version: openapi.version ?? '1' },
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        security: [{ bearer: [] }],
      },
      transform: createJsonSchemaTransform({ skipList: [] }),
      transformObject: createJsonSchemaTransformObject({}),
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  }
  if (websocketOptions) {
    // Before authentication: the plugin's own hooks must see every upgrade,
    // refused ones included, or a refused upgrade's socket is never closed.
    await app.register(websocket, {
      options: { maxPayload: websocketOptions.maxPayloadBytes },
      // The plugin logs every socket error at error level; most are the client's.
      errorHandler: (error, socket, request) => {
        const level = websocketErrorLevel(error);
        request.log[level](
          { err: error, code: (error as { code?: unknown }).code },
          level === 'error' ? 'websocket fault' : 'websocket client error',
        );
        socket.terminate();
      },
    });
    // The plugin hides WebSocket routes from the OpenAPI document; the stream
    // is part of the public contract, so it is listed like any other route.
    app.addHook('onRoute', (route) => {
      if (route.websocket && route.schema && openapi) route.schema.hide = false;
    });
  }
  if (verifyToken) authenticateRequests(app, verifyToken);

  // While draining, every answer closes its connection, so keep-alive sockets
  // do not outlive the requests in flight and hold the close back.
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode;
    const line = {
      method: request.method,
      // The path without its query string: `access_token` must never reach a log.
      path: request.url.split('?')[0],
      route: request.routeOptions.url,
      status,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ...requestAnnotations(request),
    };
    if (status >= 500) request.log.error(line, 'request failed');
    else request.log.info(line, status >= 400 ? 'request refused' : 'request answered');
  });

  if (metrics) {
    app.addHook('onResponse', async (request, reply) => {
      metrics.httpRequestDuration.observe(
        {
          method: request.method,
          // The route's pattern, never the raw URL: ids would make a series per request.
          route: request.routeOptions.url ?? 'unmatched',
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    });
  }

  const healthReply = z.object({ status: z.string() });
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: { summary: 'The process is alive', security: [], response: { 200: healthReply } },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        summary: 'The service can do its work: its dependencies answer and it is not draining',
        security: [],
        response: {
          200: healthReply,
          // `missing` names the dependencies that do not answer: postgres, kafka, kafka-consumer.
          503: healthReply.extend({ missing: z.array(z.string()).optional() }),
        },
      },
    },
    async (_request, reply) => {
      if (draining) return reply.status(503).send({ status: 'draining' });
      const answer = await checkReadiness().catch(() => false as const);
      // A service that names its dependencies says which are missing, so an operator
      // (or `npm run status`) sees what to bring back without reading logs.
      const missing = typeof answer === 'boolean' ? undefined : [...answer.missing];
      const ready = missing ? missing.length === 0 : answer === true;
      if (ready) return reply.status(200).send({ status: 'ready' });
      return reply.status(503).send({ status: 'not-ready', ...(missing ? { missing } : {}) });
    },
  );

  const drainActions: { step: string; action: () => Promise<void> | void }[] = [];
  let closing: Promise<void> | undefined;
  const beginDrain = () => {
    if (draining) return;
    draining = true;
    publishLifecycleStep(service, 'draining');
  };

  return {
    app,
    routes,
    async listen({ host, port, onFailure }) {
      const url = await app.listen({ host, port, backlog: LISTEN_BACKLOG });
      app.server.on('error', (error) =>
        onFailure(new RenkeiError('RENKEI_SERVER_FAILED', undefined, { cause: error })),
      );
      return url;
    },
    beginDrain,
    isDraining: () => draining,
    onDrain(step, action) {
      drainActions.push({ step, action });
    },
    close(graceMs = 10_000) {
      closing ??= (async () => {
        beginDrain();
        publishLifecycleStep(service, 'stop-accepting');
        const listening = app.server.listening;
        const stopped = listening
          ? new Promise<void>((resolve) => app.server.close(() => resolve()))
          : Promise.resolve();
        app.server.closeIdleConnections();
        for (const { step, action } of drainActions) {
          publishLifecycleStep(service, step);
          await Promise.resolve()
            .then(action)
            .catch((error: unknown) => logger.warn({ err: error, step }, 'drain step failed'));
        }
        publishLifecycleStep(service, 'http-server');
        const cut = setTimeout(() => app.server.closeAllConnections(), graceMs);
        try {
          await stopped;
          await app.close();
        } finally {
          clearTimeout(cut);
        }
      })();
      return closing;
    },
  };
}
