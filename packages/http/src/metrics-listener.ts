import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HubMetrics } from '@renkei/metrics';
import { ERROR_CODES, RenkeiError, type HttpErrorCode, type Logger } from '@renkei/runtime';

export interface MetricsListenerOptions {
  /** Loopback by default: the series say how busy the hub is and what it holds, so they are not for members. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** When set, a scrape must send `Authorization: Bearer <token>`. */
  token?: string | undefined;
  logger: Logger;
}

export interface MetricsListener {
  /** Where `GET /metrics` answers. */
  url: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * `/metrics` on a listener of its own, never on the port members reach: the
 * counts describe every organisation's traffic and alerts, hidden ones
 * included. It answers nothing else.
 */
export async function serveMetrics(
  metrics: HubMetrics,
  { host, port, token, logger }: MetricsListenerOptions,
): Promise<MetricsListener> {
  const expected = token === undefined ? undefined : digest(token);
  const server = createServer(
    { requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 },
    (request, response) => {
      void answer(request, response).catch((error: unknown) => {
        logger.error({ err: error }, 'metrics could not be collected');
        refuse(response, 'RENKEI_INTERNAL');
      });
    },
  );
  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    // Nothing here reads a body: the request is drained so the connection can be reused.
    request.resume();
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics')
      return refuse(response, 'RENKEI_NOT_FOUND', `no route ${request.method} ${path}`);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return refuse(response, 'RENKEI_METHOD_NOT_ALLOWED');
    }
    if (expected && !matches(request.headers.authorization, expected)) {
      response.setHeader('www-authenticate', 'Bearer realm="renkei-metrics"');
      return refuse(response, 'RENKEI_UNAUTHENTICATED');
    }
    const body = await metrics.registry.metrics();
    response.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
    response.end(request.method === 'HEAD' ? undefined : body);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error({ err: error }, 'metrics listener failed'));
  const { port: bound } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${bound}`;
  if (!LOOPBACK.has(host.toLowerCase()) && expected === undefined) {
    logger.warn(
      { url },
      'metrics listener reachable beyond this machine without METRICS_TOKEN: keep it on the monitoring network',
    );
  }
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function refuse(response: ServerResponse, code: HttpErrorCode, message?: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const error = new RenkeiError(code, message);
  const body = JSON.stringify({ code, message: error.message });
  response.writeHead(ERROR_CODES[code].status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(body);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares digests, so how long the check takes says nothing about the token. */
function matches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), expected);
}
