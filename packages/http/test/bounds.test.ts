import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '@renkei/metrics';
import { createLogger } from '@renkei/runtime';
import {
  createHttpApp,
  DOCS_CONTENT_SECURITY_POLICY,
  serveMetrics,
  type HttpApp,
  type MetricsListener,
  websocketErrorLevel,
} from '@renkei/http';

const logger = createLogger('test', 'silent');
const opened: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((closable) => closable.close()));
});

async function listening(
  options: Partial<Parameters<typeof createHttpApp>[0]> = {},
): Promise<{ http: HttpApp; port: number }> {
  const http = await createHttpApp({ service: 'test', logger, checkReadiness: async () => true, ...options });
  http.app.post('/echo', async (request) => request.body);
  opened.push({ close: () => http.close(500) });
  const url = await http.listen({ host: '127.0.0.1', port: 0, onFailure: () => undefined });
  return { http, port: Number(new URL(url).port) };
}

describe('timeouts', () => {
  it('cuts a body that trickles in with the 408 shape, once the request timeout passes', async () => {
    const { port } = await listening({
      timeouts: { requestMs: 1_000, headersMs: 1_000, keepAliveMs: 1_000 },
    });
    const started = performance.now();
    const text = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      const timer = setInterval(() => socket.writable && socket.write('1'), 200);
      socket.on('connect', () =>
        socket.write(
          'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9999\r\n\r\n[',
        ),
      );
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(timer);
        resolve(received);
      });
    });
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({
      code: 'RENKEI_REQUEST_TIMEOUT',
      message: 'the request was not received in time',
    });
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('framework answers in the hub shape', () => {
  it('answers a malformed percent-encoding with the documented body', async () => {
    const { port } = await listening();
    const response = await fetch(`http://127.0.0.1:${port}/v1/alerts/%E0%A4%A`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code: 'RENKEI_INVALID_REQUEST',
      message: 'the path is not a valid URL: it holds a malformed percent-encoding',
    });
  });

  it('answers an unknown route without reading its body', async () => {
    const { http } = await listening();
    const response = await http.app.inject({
      method: 'POST',
      url: '/nowhere',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":1,"a":2}',
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ code: 'RENKEI_NOT_FOUND', message: 'no route POST /nowhere' });
  });

  it('gives the documentation pages the console’s protections', async () => {
    const { http } = await listening({ openapi: { title: 't', description: 'd' } });
    for (const url of ['/docs', '/docs/static/swagger-initializer.js', '/openapi.json']) {
      const response = await http.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-security-policy']).toBe(DOCS_CONTENT_SECURITY_POLICY);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
    }
    const health = await http.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.headers['content-security-policy']).toBeUndefined();
  });

  it('serves no /metrics on the app itself', async () => {
    const { http } = await listening({ metrics: createMetrics('test') });
    expect((await http.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
  });
});

describe('serveMetrics', () => {
  async function listener(token?: string): Promise<MetricsListener> {
    const served = await serveMetrics(createMetrics('test'), { host: '127.0.0.1', port: 0, token, logger });
    opened.push(served);
    return served;
  }

  it('answers GET /metrics without a token when none is configured', async () => {
    const { url } = await listener();
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('renkei_event_loop_delay_seconds');
  });

  it('wants the scrape token when one is configured, compared whole', async () => {
    const token = 'a-scrape-token-long-enough';
    const { url } = await listener(token);
    for (const authorization of [
      undefined,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token}x`,
      `Basic ${token}`,
    ]) {
      const response = await fetch(`${url}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await response.json()).toEqual({
        code: 'RENKEI_UNAUTHENTICATED',
        message: 'a valid bearer token is required',
      });
    }
    const ok = await fetch(`${url}/metrics`, { headers: { authorization: `bearer ${token}` } });
    expect(ok.status).toBe(200);
    const head = await fetch(`${url}/metrics`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(head.status).toBe(200);
  });

  it('answers nothing else, in the hub shape', async () => {
    const { url } = await listener();
    const other = await fetch(`${url}/healthz`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ code: 'RENKEI_NOT_FOUND' });
    const post = await fetch(`${url}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('websocketErrorLevel', () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });

  it('warns about frames that break the protocol, notes dropped connections, and keeps faults at error', () => {
    expect(websocketErrorLevel(withCode('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'))).toBe('warn');
    expect(websocketErrorLevel(withCode('WS_ERR_INVALID_UTF8'))).toBe('warn');
    expect(websocketErrorLevel(withCode('ECONNRESET'))).toBe('info');
    expect(websocketErrorLevel(withCode('EPIPE'))).toBe('info');
    expect(websocketErrorLevel(new Error('a bug'))).toBe('error');
    expect(websocketErrorLevel(withCode('ENOMEM'))).toBe('error');
    expect(websocketErrorLevel(undefined)).toBe('error');
  });
});
