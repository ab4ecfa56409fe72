import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  openStream,
  randomTopicPrefix,
  registerOrganisations,
  sleep,
  spawnServices,
  TEST_ORGANISATIONS,
  waitUntilReady,
  type ServiceProcess,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';

/**
 * Every request does bounded work and every surface answers in the hub's own
 * shape, on the three services as `npm run up` runs them (own processes),
 * with the request timeout lowered to 2 s so a slow client is cut quickly.
 */
describe('bounded requests and operational surfaces on running services', () => {
  const SCRAPE_TOKEN = 'scrape-token-for-the-test-0123456789';
  const REQUEST_TIMEOUT_MS = 2_000;
  let database: TestDatabase;
  let keys: TestKeys;
  let prefix: string;
  let ingest: ServiceProcess;
  let gateway: ServiceProcess;
  let correlator: ServiceProcess;
  let reporter: string;

  beforeAll(async () => {
    [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
    await registerOrganisations(database, [TEST_ORGANISATIONS.mlitCsirt, TEST_ORGANISATIONS.gsoc]);
    prefix = randomTopicPrefix();
    const env = {
      DATABASE_URL: database.url,
      KAFKA_TOPIC_PREFIX: prefix,
      AUTH_JWKS_FILE: keys.jwksFile,
      CORRELATOR_SESSION_TIMEOUT_MS: '6000',
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000',
      METRICS_TOKEN: SCRAPE_TOKEN,
    };
    [ingest, gateway, correlator] = (await spawnServices([
      { name: 'ingest', env },
      { name: 'gateway', env },
      { name: 'correlator', env },
    ])) as [ServiceProcess, ServiceProcess, ServiceProcess];
    await Promise.all([waitUntilReady(ingest.url!), waitUntilReady(gateway.url!)]);
    reporter = await keys.token({ org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] });
  });

  afterAll(async () => {
    await Promise.all([ingest?.stop(), gateway?.stop(), correlator?.stop()]);
    await database?.drop();
    await keys?.remove();
    if (prefix) await deleteTopicsWithPrefix(prefix);
  });

  const report = () => ({
    id: randomUUID(),
    title: 'Phishing wave against procurement',
    category: 'phishing',
    severity: 'high',
    tlp: 'GREEN',
    detectedAt: '2026-11-28T09:00:00+09:00',
    indicators: [{ type: 'domain', value: 'evil.example' }],
  });

  const postReport = (body: string) =>
    fetch(`${ingest.url}/v1/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reporter}`, 'content-type': 'application/json' },
      body,
    });

  interface FieldError {
    code: string;
    message: string;
    fields?: { field: string; message: string }[];
  }

  describe('JSON bodies', () => {
    // 10 KB: 5,000 arrays, one inside the other.
    const nested = '['.repeat(5_000) + ']'.repeat(5_000);

    /** The fastest of five tries: a busy machine may delay some, a quadratic walk delays all. */
    async function fastest(send: () => Promise<Response>): Promise<{ ms: number; response: Response }> {
      let best: { ms: number; response: Response } | undefined;
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const started = performance.now();
        const response = await send();
        await response.clone().text();
        const ms = performance.now() - started;
        if (!best || ms < best.ms) best = { ms, response };
      }
      return best!;
    }

    it('answers 5,000 nested arrays with a 400 naming the depth in under 100 ms, on ingest with a token', async () => {
      await postReport(JSON.stringify(report())); // warms the route and the connection
      const { ms, response } = await fastest(() => postReport(`{"title":${nested}}`));
      expect(response.status).toBe(400);
      const body = (await response.json()) as FieldError;
      expect(body.code).toBe('RENKEI_INVALID_REQUEST');
      expect(body.message).toContain('nested deeper than 64 levels');
      expect(body.fields![0]!.field).toBe(`title${'[0]'.repeat(63)}`);
      expect(ms, `fastest of five: ${ms.toFixed(1)} ms`).toBeLessThan(100);
    });

    it('answers the same body on the gateway without a token in under 100 ms, without parsing it first', async () => {
      const routes = [
        // A route that needs a token: refused before the body is read.
        { path: '/v1/warnings', type: 'application/json' },
        // No route: answered 404 before the body is read.
        { path: '/v1/nowhere', type: 'application/json' },
        // TAXII's add: anonymous callers reach it (the route decides), so the body is parsed, cheaply.
        { path: '/taxii2/renkei/collections/any/objects/', type: 'application/taxii+json;version=2.1' },
      ];
      for (const { path, type } of routes) {
        const { ms, response } = await fastest(() =>
          fetch(`${gateway.url}${path}`, {
            method: 'POST',
            headers: { 'content-type': type, accept: 'application/taxii+json;version=2.1' },
            body: nested,
          }),
        );
        expect([400, 401, 404], path).toContain(response.status);
        expect(ms, `${path}: fastest of five ${ms.toFixed(1)} ms`).toBeLessThan(100);
      }
      // Not parsed at all: a body that would be a 400 gets the route's answer.
      const unread = await fetch(`${gateway.url}/v1/nowhere`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"a":1,"a":2}',
      });
      expect(unread.status).toBe(404);
    });

    it('refuses a key given twice with a 400 naming it, and stores nothing (RED is never stored CLEAR)', async () => {
      const id = randomUUID();
      const { tlp: _tlp, ...rest } = { ...report(), id };
      const text = `{"tlp":"RED",${JSON.stringify(rest).slice(1, -1)},"tlp":"CLEAR"}`;
      const response = await postReport(text);
      expect(response.status).toBe(400);
      const body = (await response.json()) as FieldError;
      expect(body.fields).toEqual([
        { field: 'tlp', message: expect.stringContaining('"tlp" appears more than once') },
      ]);
      const stored = await fetch(`${ingest.url}/v1/reports/${id}`, {
        headers: { authorization: `Bearer ${reporter}` },
      });
      expect(stored.status).toBe(404);

      const deep = JSON.stringify(report()).replace(
        '{"type":"domain","value":"evil.example"}',
        '{"type":"domain","value":"evil.example","type":"ip"}',
      );
      const nestedDuplicate = (await (await postReport(deep)).json()) as FieldError;
      expect(nestedDuplicate.fields![0]!.field).toBe('indicators[0].type');
    });

    it('says why a __proto__ or constructor key is refused', async () => {
      for (const key of ['__proto__', 'constructor']) {
        const text = JSON.stringify(report()).replace('{', `{"${key}":{"tlp":"CLEAR"},`);
        const response = await postReport(text);
        expect(response.status).toBe(400);
        const body = (await response.json()) as FieldError;
        expect(body.fields![0]!.field).toBe(key);
        expect(body.message).toContain(`"${key}" is not accepted`);
        expect(body.message).toContain('reserved');
      }
    });
  });

  describe('slow and idle clients', () => {
    /**
     * Sends `head`, then one byte of body every 500 ms; resolves with what
     * came back and how long after the headers the connection closed.
     */
    function trickle(port: number, head: string): Promise<{ text: string; closedAfterMs: number }> {
      return new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let text = '';
        let started = 0;
        let timer: NodeJS.Timeout | undefined;
        socket.on('connect', () => {
          socket.write(head);
          started = performance.now();
          timer = setInterval(() => socket.writable && socket.write('1'), 500);
        });
        socket.on('data', (chunk) => (text += chunk.toString()));
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearInterval(timer);
          resolve({ text, closedAfterMs: performance.now() - started });
        });
        setTimeout(() => {
          socket.destroy();
          reject(new Error(`the connection was still open after 15 s; received: ${text}`));
        }, 15_000).unref();
      });
    }

    const bodyOf = (text: string) => JSON.parse(text.slice(text.lastIndexOf('\r\n\r\n') + 4)) as FieldError;

    it('cuts a slow body with the documented 408 once the request timeout passes', async () => {
      const { text, closedAfterMs } = await trickle(
        Number(new URL(ingest.url!).port),
        'POST /v1/reports HTTP/1.1\r\nHost: hub\r\n' +
          `Authorization: Bearer ${reporter}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`,
      );
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(bodyOf(text)).toEqual({
        code: 'RENKEI_REQUEST_TIMEOUT',
        message: 'the request was not received in time',
      });
      expect(closedAfterMs).toBeGreaterThan(REQUEST_TIMEOUT_MS - 500);
      expect(closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 5_000);
    });

    it('cuts a slow body after its 401 too, on the gateway', async () => {
      const { text, closedAfterMs } = await trickle(
        Number(new URL(gateway.url!).port),
        'POST /v1/warnings HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
      );
      expect(text).toMatch(/^HTTP\/1\.1 401 /);
      expect(text).toContain('HTTP/1.1 408 ');
      expect(bodyOf(text).code).toBe('RENKEI_REQUEST_TIMEOUT');
      expect(closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 5_000);
    });

    it('closes an idle keep-alive connection', async () => {
      const closedAfterMs = await new Promise<number>((resolve, reject) => {
        const socket: Socket = connect(Number(new URL(gateway.url!).port), '127.0.0.1');
        let started = 0;
        socket.on('data', () => (started ||= performance.now()));
        socket.on('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n'));
        socket.on('close', () => resolve(performance.now() - started));
        socket.on('error', reject);
        setTimeout(() => {
          socket.destroy();
          reject(new Error('the idle connection was still open after 15 s'));
        }, 15_000).unref();
      });
      expect(closedAfterMs).toBeLessThan(8_000);
    });

    it('leaves a WebSocket stream open past the request timeout: it bounds receiving a request, not a connection', async () => {
      const analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
      const stream = await openStream(gateway.url!, analyst);
      try {
        await stream.next((frame) => frame.type === 'welcome');
        const outcome = await Promise.race([
          stream.closed,
          sleep(REQUEST_TIMEOUT_MS + 2_000).then(() => 'open'),
        ]);
        expect(outcome).toBe('open');
        expect(stream.socket.readyState).toBe(stream.socket.OPEN);
      } finally {
        await stream.close();
      }
    });

    it('logs oversize and invalid WebSocket frames at warn, not as faults', async () => {
      const analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
      const oversized = await openStream(gateway.url!, analyst);
      await oversized.next((frame) => frame.type === 'welcome');
      oversized.socket.send(
        JSON.stringify({ type: 'subscribe', filter: {}, padding: 'x'.repeat(70 * 1024) }),
      );
      expect((await oversized.closed).code).toBe(1009);
      const notUtf8 = await openStream(gateway.url!, analyst);
      await notUtf8.next((frame) => frame.type === 'welcome');
      notUtf8.socket.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false });
      expect((await notUtf8.closed).code).toBe(1007);

      for (const code of ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'WS_ERR_INVALID_UTF8']) {
        const line = await gateway.waitForLog(
          (entry) => entry.code === code && entry.msg === 'websocket client error',
        );
        expect(line.level).toBe('warn');
      }
      // (A /readyz 503 while a service starts is logged as a failed request; it is not about this.)
      const faults = gateway.lines.filter(
        (entry) => entry.level === 'error' && entry.reqId !== undefined && entry.route !== '/readyz',
      );
      expect(faults).toEqual([]);
    });

    it('logs a client that aborts its body at info under its own code, not as an outage', async () => {
      const port = Number(new URL(ingest.url!).port);
      await new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            'POST /v1/reports HTTP/1.1\r\nHost: hub\r\n' +
              `Authorization: Bearer ${reporter}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"title":`,
          );
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 200);
        });
      });
      const line = await ingest.waitForLog((entry) => entry.code === 'RENKEI_CLIENT_ABORTED', 10_000);
      expect(line.level).toBe('info');
      expect(line.route).toBe('/v1/reports');
      expect(ingest.lines.filter((entry) => entry.code === 'RENKEI_UNAVAILABLE')).toEqual([]);
      // (kafkajs may log metadata errors while topics are being created; requests must not.)
      // (A /readyz 503 while a service starts is logged as a failed request; it is not about this.)
      const faults = ingest.lines.filter(
        (entry) => entry.level === 'error' && entry.reqId !== undefined && entry.route !== '/readyz',
      );
      expect(faults).toEqual([]);
    });
  });

  describe('URLs and documentation', () => {
    it('answers a malformed percent-encoding in the path in the documented error shape, on every service', async () => {
      for (const service of [ingest, gateway, correlator]) {
        const response = await fetch(`${service.url}/v1/alerts/%E0%A4%A`);
        expect(response.status, service.name).toBe(400);
        expect(response.headers.get('content-type')).toContain('application/json');
        expect(await response.json()).toEqual({
          code: 'RENKEI_INVALID_REQUEST',
          message: 'the path is not a valid URL: it holds a malformed percent-encoding',
        });
      }
    });

    it('serves /docs with a content security policy, nosniff and frame protection', async () => {
      for (const service of [ingest, gateway]) {
        for (const path of ['/docs', '/docs/static/swagger-initializer.js', '/docs/json', '/openapi.json']) {
          const response = await fetch(`${service.url}${path}`);
          expect(response.status, `${service.name} ${path}`).toBe(200);
          const policy = response.headers.get('content-security-policy') ?? '';
          expect(policy, `${service.name} ${path}`).toContain("frame-ancestors 'none'");
          expect(policy).toContain("script-src 'self'");
          expect(policy).toContain("object-src 'none'");
          expect(response.headers.get('x-content-type-options')).toBe('nosniff');
          expect(response.headers.get('x-frame-options')).toBe('DENY');
        }
      }
    });
  });

  describe('/metrics', () => {
    it('is not on the members’ ports, and its own loopback listener wants the scrape token', async () => {
      for (const service of [ingest, gateway, correlator]) {
        const open = await fetch(`${service.url}/metrics`);
        expect(open.status, `${service.name} /metrics on its public port`).toBe(404);
        expect(await open.text()).not.toContain('renkei_');

        expect(new URL(service.metricsUrl!).hostname).toBe('127.0.0.1');
        const anonymous = await fetch(`${service.metricsUrl}/metrics`);
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
        expect(await anonymous.json()).toMatchObject({ code: 'RENKEI_UNAUTHENTICATED' });
        const wrong = await fetch(`${service.metricsUrl}/metrics`, {
          headers: { authorization: `Bearer ${SCRAPE_TOKEN}x` },
        });
        expect(wrong.status).toBe(401);

        const scraped = await fetch(`${service.metricsUrl}/metrics`, {
          headers: { authorization: `Bearer ${SCRAPE_TOKEN}` },
        });
        expect(scraped.status).toBe(200);
        const text = await scraped.text();
        expect(text).toMatch(
          new RegExp(`renkei_event_loop_delay_seconds\\{quantile="0.99",service="${service.name}"\\} `),
        );
        expect(text).toContain('renkei_alerts_raised_total');
      }
    });
  });
});
