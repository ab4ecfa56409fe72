import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPool } from '@renkei/db';
import { fixedRegistry, type OrganisationRegistry } from '@renkei/registry';
import { serveMetrics, type HttpApp } from '@renkei/http';
import { createMetrics, observePool } from '@renkei/metrics';
import { createLogger } from '@renkei/runtime';
import {
  TLP_CHANGE_SCHEMA,
  tlpChangeMessageSchema,
  type ReportEnvelope,
  type ReportSubmission,
} from '@renkei/schema';
import {
  documentedRoutes,
  registerOrganisations,
  TEST_ORGANISATIONS,
  readWholeTopic,
  type ControllableProducer,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';
import { buildIngestApp } from '../../src/app.js';
import { startInProcessIngest, type InProcessIngest } from '../support/in-process.js';

/**
 * The ingest API in this process, through its builder: a real database and a
 * real broker, with a producer whose sends can be made to fail or hang.
 */
describe('ingest, built in-process', () => {
  const logger = createLogger('ingest-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let ingest: InProcessIngest;
  let kafka: ControllableProducer;
  let http: HttpApp;
  let reportsTopic: string;
  let reporter: string;
  let otherReporter: string;
  let analyst: string;
  const metrics = createMetrics('ingest');
  let registry: OrganisationRegistry;
  const { mlitCsirt, financeCeptar, gsoc } = TEST_ORGANISATIONS;

  beforeAll(async () => {
    ingest = await startInProcessIngest({
      organisations: [mlitCsirt, financeCeptar, gsoc],
      logger,
      clientId: 'ingest-test',
      // Long enough for 200 submissions at once on a loaded 2-core machine; the stall test waits it out.
      kafkaTimeoutMs: 3_000,
      // Long enough that requests sent together always share a batch here.
      batching: { lingerMs: 50, maxBatch: 200 },
      metrics,
    });
    ({ database, keys, kafka, http, reportsTopic, registry } = ingest);
    observePool(metrics, database.pool);
    reporter = await keys.token({ org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] });
    otherReporter = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
    analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
  });

  afterAll(async () => {
    await ingest?.close();
  });

  const report = (overrides: Partial<ReportSubmission> = {}): ReportSubmission => ({
    id: randomUUID(),
    title: 'Phishing wave against procurement',
    category: 'phishing',
    severity: 'high',
    tlp: 'GREEN',
    detectedAt: '2026-11-28T09:00:00+09:00',
    indicators: [{ type: 'domain', value: 'evil.example' }],
    ...overrides,
  });

  const post = (token: string, body: unknown, headers: Record<string, string> = {}) =>
    http.app.inject({
      method: 'POST',
      url: '/v1/reports',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });

  /** How many times a report id is on the reports topic. */
  const onTopic = async (id: string) =>
    (await readWholeTopic<ReportEnvelope>(reportsTopic)).filter((message) => message.id === id).length;

  describe('accepting', () => {
    it('answers 202 once Kafka holds the report, and the owner reads it back', async () => {
      const body = report();
      const response = await post(reporter, body);
      expect(response.statusCode).toBe(202);
      expect(response.json()).toEqual({ id: body.id, status: 'accepted' });
      expect(await onTopic(body.id!)).toBe(1);

      const read = await http.app.inject({
        method: 'GET',
        url: `/v1/reports/${body.id}`,
        headers: { authorization: `Bearer ${reporter}` },
      });
      expect(read.statusCode).toBe(200);
      expect(read.json()).toMatchObject({ id: body.id, status: 'accepted', organisationId: 'mlit-csirt' });
    });

    it('answers a retry with the same id and body again, without a second message', async () => {
      const body = report();
      const first = await post(reporter, body);
      const again = await post(reporter, JSON.stringify(body, null, 2));
      expect([first.statusCode, again.statusCode]).toEqual([202, 202]);
      expect(again.json()).toEqual(first.json());
      expect(await onTopic(body.id!)).toBe(1);
    });

    it('answers 409 for the same id with another body, or from another organisation', async () => {
      const body = report();
      expect((await post(reporter, body)).statusCode).toBe(202);
      const changed = await post(reporter, { ...body, title: 'Something else' });
      expect(changed.statusCode).toBe(409);
      expect(changed.json()).toMatchObject({ code: 'RENKEI_CONFLICT' });
      const stolen = await post(otherReporter, body);
      expect(stolen.statusCode).toBe(409);
      expect(await onTopic(body.id!)).toBe(1);
    });

    it('hides another organisation’s report behind a 404, and shows it to analysts', async () => {
      const body = report();
      await post(reporter, body);
      const get = (token: string) =>
        http.app.inject({
          method: 'GET',
          url: `/v1/reports/${body.id}`,
          headers: { authorization: `Bearer ${token}` },
        });
      expect((await get(otherReporter)).statusCode).toBe(404);
      expect((await get(analyst)).statusCode).toBe(200);
    });
  });

  describe('who may submit', () => {
    const auditRows = async (kind: string) =>
      (
        await database.pool.query<{
          actor: string | null;
          organisation_id: string | null;
          object: string | null;
          details: Record<string, unknown>;
        }>('SELECT actor, organisation_id, object, details FROM audit_events WHERE kind = $1 ORDER BY id', [
          kind,
        ])
      ).rows;

    it('audits each report once, however often it is retried, and denied reads of others', async () => {
      const body = report();
      expect((await post(reporter, body)).statusCode).toBe(202);
      expect((await post(reporter, body)).statusCode).toBe(202);
      const submitted = (await auditRows('report.submitted')).filter((row) => row.object === body.id);
      expect(submitted).toEqual([
        {
          actor: 'mlit-csirt-tester',
          organisation_id: 'mlit-csirt',
          object: body.id,
          details: { tlp: 'GREEN', exercise: false },
        },
      ]);
      const read = await http.app.inject({
        method: 'GET',
        url: `/v1/reports/${body.id}`,
        headers: { authorization: `Bearer ${otherReporter}` },
      });
      expect(read.statusCode).toBe(404);
      expect((await auditRows('access.denied')).filter((row) => row.object === body.id)).toEqual([
        {
          actor: 'finance-ceptar-tester',
          organisation_id: 'finance-ceptar',
          object: body.id,
          details: { what: 'report' },
        },
      ]);
    });

    it('refuses tokens of unregistered and disabled organisations with the generic 401, audited with the reason', async () => {
      const stranger = await keys.token({ org: 'stranger-csirt', sector: 'finance', roles: ['reporter'] });
      await registerOrganisations(database, [TEST_ORGANISATIONS.acmeBank]);
      const bank = await keys.token({ org: 'acme-bank', sector: 'finance', roles: ['reporter'] });
      await database.pool.query(`UPDATE organisations SET enabled = false WHERE id = 'acme-bank'`);
      await registry.refresh();
      for (const token of [stranger, bank, 'not-a-token']) {
        const response = await post(token, report());
        expect(response.statusCode).toBe(401);
        expect(response.json()).toEqual({
          code: 'RENKEI_UNAUTHENTICATED',
          message: 'a valid bearer token is required',
        });
      }
      await vi.waitFor(async () => {
        const reasons = (await auditRows('token.refused')).map((row) => row.details.reason);
        expect(reasons).toEqual(
          expect.arrayContaining([
            'organisation stranger-csirt is not registered',
            'organisation acme-bank is disabled',
            'the token is not a JWS',
          ]),
        );
      });
      const disabled = (await auditRows('token.refused')).find(
        (row) => row.details.reason === 'organisation acme-bank is disabled',
      )!;
      expect(disabled).toMatchObject({ actor: 'acme-bank-tester', organisation_id: 'acme-bank' });
      expect(disabled.details).toMatchObject({ method: 'POST', route: '/v1/reports' });
      expect(JSON.stringify(await auditRows('token.refused'))).not.toContain(bank);
    });

    it('takes the sector from the registry, not from the token', async () => {
      const misplaced = await keys.token({ org: 'mlit-csirt', sector: 'water', roles: ['reporter'] });
      const body = report();
      expect((await post(misplaced, body)).statusCode).toBe(202);
      const [message] = (await readWholeTopic<ReportEnvelope>(reportsTopic)).filter((m) => m.id === body.id);
      expect(message!.sector).toBe('central-government');
    });

    it('limits writes per organisation with 429 and Retry-After, and leaves reads and other organisations alone', async () => {
      const limited = await ingest.build({
        access: { writeLimits: { max: 2, windowMs: 60_000 }, refusalsPerMinute: 10 },
      });
      try {
        const send = (token: string) =>
          limited.app.inject({
            method: 'POST',
            url: '/v1/reports',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            payload: JSON.stringify(report()),
          });
        expect((await send(reporter)).statusCode).toBe(202);
        expect((await send(reporter)).statusCode).toBe(202);
        const refused = await send(reporter);
        expect(refused.statusCode).toBe(429);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        expect(refused.json()).toMatchObject({ code: 'RENKEI_RATE_LIMITED' });
        expect((await send(otherReporter)).statusCode).toBe(202);
        const read = await limited.app.inject({
          method: 'GET',
          url: `/v1/reports/${randomUUID()}`,
          headers: { authorization: `Bearer ${reporter}` },
        });
        expect(read.statusCode).toBe(404);
      } finally {
        await limited.close(1_000);
      }
    });

    it("budgets reads per organisation too: 429 with Retry-After past it, another organisation's reads go on", async () => {
      const budgeted = await ingest.build({
        access: {
          writeLimits: { max: 600, windowMs: 60_000 },
          readLimits: {
            member: { perSecond: 0.1, burst: 2, expensiveInFlight: 1 },
            analyst: { perSecond: 0.1, burst: 2, expensiveInFlight: 1 },
          },
          refusalsPerMinute: 10,
        },
        kafkaTimeoutMs: 1_000,
        importIdKey: randomBytes(32),
        checkReadiness: async () => true,
      });
      try {
        const read = (token: string) =>
          budgeted.app.inject({
            method: 'GET',
            url: `/v1/reports/${randomUUID()}`,
            headers: { authorization: `Bearer ${token}` },
          });
        expect((await read(reporter)).statusCode).toBe(404);
        expect((await read(reporter)).statusCode).toBe(404);
        const refused = await read(reporter);
        expect(refused.statusCode).toBe(429);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(9);
        expect(refused.json()).toMatchObject({ code: 'RENKEI_RATE_LIMITED' });
        expect((await read(otherReporter)).statusCode).toBe(404);
      } finally {
        await budgeted.close(1_000);
      }
    });
  });

  describe('when Kafka does not acknowledge', () => {
    it('answers 503 with Retry-After when the send fails, and the retry with the same id is stored once', async () => {
      const body = report();
      const brokerDown = Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
        name: 'KafkaJSConnectionError',
        retriable: true,
      });
      kafka.inject({ kind: 'fail', error: brokerDown });
      const failed = await post(reporter, body);
      expect(failed.statusCode).toBe(503);
      expect(failed.headers['retry-after']).toBe('1');
      expect(failed.json()).toMatchObject({
        code: 'RENKEI_UNAVAILABLE',
        message: 'not acknowledged: it may or may not be stored; retry with the same id',
      });
      expect(await onTopic(body.id!)).toBe(0);

      const retried = await post(reporter, body);
      expect(retried.statusCode).toBe(202);
      expect(await onTopic(body.id!)).toBe(1);
    });

    it('answers 503 when the acknowledgement does not come in time, and the retry succeeds', async () => {
      const body = report();
      kafka.inject({ kind: 'stall' });
      const started = Date.now();
      const timedOut = await post(reporter, body);
      expect(timedOut.statusCode).toBe(503);
      expect(timedOut.headers['retry-after']).toBe('1');
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);

      expect((await post(reporter, body)).statusCode).toBe(202);
      expect(await onTopic(body.id!)).toBe(1);
    });

    it('answers a fault of the hub with 500 and a correlation id, never a retriable 503', async () => {
      kafka.inject({
        kind: 'fail',
        error: new TypeError("Cannot read properties of undefined (reading 'key')"),
      });
      const response = await post(reporter, report());
      expect(response.statusCode).toBe(500);
      expect(response.headers['retry-after']).toBeUndefined();
      expect(response.json()).toEqual({
        code: 'RENKEI_INTERNAL',
        message: 'internal error',
        correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
    });
  });

  describe('batching', () => {
    it('answers 200 concurrent submissions 202, each on the topic once, in a few Kafka requests', async () => {
      const bodies = Array.from({ length: 200 }, () => report());
      const sendsBefore = kafka.delivered;
      const answers = await Promise.all(bodies.map((body) => post(reporter, body)));
      expect(answers.map((answer) => answer.statusCode)).toEqual(bodies.map(() => 202));
      const sends = kafka.delivered - sendsBefore;
      expect(sends).toBeGreaterThanOrEqual(1);
      expect(sends).toBeLessThan(50);
      const messages = await readWholeTopic<ReportEnvelope>(reportsTopic);
      for (const body of bodies) expect(messages.filter((message) => message.id === body.id)).toHaveLength(1);
    });

    it('answers 503 to exactly the requests of a batch whose send fails; their retries succeed once', async () => {
      const failing = Array.from({ length: 10 }, () => report());
      kafka.inject({
        kind: 'fail',
        error: Object.assign(new Error('broker down'), { name: 'KafkaJSConnectionError' }),
      });
      const answers = await Promise.all(failing.map((body) => post(reporter, body)));
      // The batch took all ten: they arrived within one linger.
      expect(answers.map((answer) => answer.statusCode)).toEqual(failing.map(() => 503));
      const later = report();
      expect((await post(reporter, later)).statusCode).toBe(202);

      const retried = await Promise.all(failing.map((body) => post(reporter, body)));
      expect(retried.map((answer) => answer.statusCode)).toEqual(failing.map(() => 202));
      const messages = await readWholeTopic<ReportEnvelope>(reportsTopic);
      for (const body of [...failing, later]) {
        expect(messages.filter((message) => message.id === body.id)).toHaveLength(1);
      }
    });

    it('answers the same id twice in one batch once stored, and a different body for it 409', async () => {
      const body = report();
      const [first, again, changed] = await Promise.all([
        post(reporter, body),
        post(reporter, body),
        post(reporter, { ...body, title: 'Another title' }),
      ]);
      // The first body the batcher takes for the id wins; on a loaded machine the three requests may
      // reach it in any order, so the changed body can be the one taken.
      const statuses = [first.statusCode, again.statusCode, changed.statusCode];
      expect([
        [202, 202, 409],
        [409, 409, 202],
      ]).toContainEqual(statuses);
      expect(await onTopic(body.id!)).toBe(1);
    });
  });

  describe('when PostgreSQL does not answer', () => {
    it('answers 202 once Kafka holds the report, and its retry again without a second message', async () => {
      // Nothing listens on port 1: the connection is refused, as when the server is down.
      const unreachable = createPool('postgres://postgres@127.0.0.1:1/renkei', { max: 1 });
      const offline = await buildIngestApp({
        logger,
        pool: unreachable,
        producer: kafka.producer,
        reportsTopic,
        verifyToken: async () => ({
          subject: 'x',
          organisationId: 'mlit-csirt',
          sector: 'central-government',
          roles: ['reporter'],
        }),
        registry: fixedRegistry([{ ...mlitCsirt, name: 'MLIT CSIRT' }]),
        kafkaTimeoutMs: 1_000,
        importIdKey: randomBytes(32),
        checkReadiness: async () => true,
      });
      try {
        const body = report();
        const submit = () =>
          offline.app.inject({
            method: 'POST',
            url: '/v1/reports',
            headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
            payload: JSON.stringify(body),
          });
        const response = await submit();
        expect(response.statusCode).toBe(202);
        expect(response.json()).toEqual({ id: body.id, status: 'accepted' });
        expect(await onTopic(body.id!)).toBe(1);
        // The retry is answered from what this process remembers: no second message.
        expect((await submit()).statusCode).toBe(202);
        expect(await onTopic(body.id!)).toBe(1);

        // Reading needs the ledger: not acknowledged, retry.
        const read = await offline.app.inject({
          method: 'GET',
          url: `/v1/reports/${body.id}`,
          headers: { authorization: 'Bearer x' },
        });
        expect(read.statusCode).toBe(503);
        expect(read.headers['retry-after']).toBe('1');
        expect(read.json()).toMatchObject({ code: 'RENKEI_UNAVAILABLE' });
      } finally {
        await offline.close(1_000);
        await unreachable.end();
      }
    });
  });

  describe('input the hub cannot store or read', () => {
    it.each([
      ['a NUL character in the title', { title: 'evil\u0000title' }, 'title'],
      [
        'a lone surrogate in a value',
        { indicators: [{ type: 'domain', value: 'a\ud800.example' }] },
        'indicators[0].value',
      ],
      ['a lone low surrogate in the description', { description: 'x\udc00' }, 'description'],
      [
        'an IPv4 address that could be read as octal',
        {
          indicators: [
            { type: 'domain', value: 'ok.example' },
            { type: 'ipv4', value: '010.1.1.1' },
          ],
        },
        'indicators[1].value',
      ],
      [
        'a URL without a scheme',
        { indicators: [{ type: 'url', value: 'evil[.]example/x' }] },
        'indicators[0].value',
      ],
      // Year 0000 was answered 202, then dead-lettered in the correlator and stayed `accepted` for ever.
      ['a detection time in year 0000', { detectedAt: '0000-01-01T00:00:00Z' }, 'detectedAt'],
      ['a detection time before 1990', { detectedAt: '1989-12-31T23:59:59Z' }, 'detectedAt'],
      [
        'a detection time a day ahead',
        { detectedAt: new Date(Date.now() + 86_400_000).toISOString() },
        'detectedAt',
      ],
      ['a UTC offset PostgreSQL refuses', { detectedAt: '2026-01-01T00:00:00+16:00' }, 'detectedAt'],
      [
        'a URL too long to index once percent-encoded',
        { indicators: [{ type: 'url', value: `https://evil.example/${'\u6f22'.repeat(2000)}` }] },
        'indicators[0].value',
      ],
    ])('answers %s with 400 naming the field', async (_what, overrides, field) => {
      const response = await post(reporter, report(overrides as Partial<ReportSubmission>));
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'RENKEI_INVALID_REQUEST', fields: [{ field }] });
    });

    /** `count` indicators, each about `bytes` long in UTF-8 though short once canonical (quoted in 「」). */
    const heavyIndicators = (count: number, bytes: number, tag: string) =>
      Array.from({ length: count }, (_, i) => {
        const quotes = Math.floor((bytes - 20) / 6);
        return {
          type: 'domain' as const,
          value: `${'\u300c'.repeat(quotes)}${tag}-${i}.example${'\u300d'.repeat(quotes)}`,
        };
      });

    // A report under the body limit could still be over the broker's message limit: Kafka refused
    // it on every retry (500), and every other report of its batch with it.
    it('answers a report too large for one Kafka message with 413, and sends the rest of its batch', async () => {
      const large = report({ indicators: heavyIndicators(1000, 1_000, 'large') });
      const small = report();
      const [tooLarge, fine] = await Promise.all([post(reporter, large), post(reporter, small)]);
      expect(Buffer.byteLength(JSON.stringify(large))).toBeLessThan(1024 * 1024);
      expect(tooLarge.statusCode, tooLarge.body).toBe(413);
      expect(tooLarge.json()).toMatchObject({
        code: 'RENKEI_PAYLOAD_TOO_LARGE',
        message: expect.stringMatching(/bytes/),
      });
      expect(fine.statusCode).toBe(202);
      expect(await onTopic(large.id!)).toBe(0);
    });

    it('sends reports that together exceed one Kafka message in several requests, all accepted', async () => {
      // 13 reports of ~450 KB over 6 partitions: at least three share one, over 1 MiB in one batch.
      const reports = Array.from({ length: 13 }, (_, n) =>
        report({ indicators: heavyIndicators(1000, 450, `r${n}`) }),
      );
      const answers = await Promise.all(reports.map((body) => post(reporter, body)));
      expect(answers.map((answer) => answer.statusCode)).toEqual(reports.map(() => 202));
      for (const body of reports) expect(await onTopic(body.id!)).toBe(1);
    });

    it('answers text escaped in JSON the same way (\\u0000 in the raw body)', async () => {
      const raw = JSON.stringify(report()).replace('Phishing wave', 'Phishing\\u0000wave');
      const response = await post(reporter, raw);
      expect(response.statusCode).toBe(400);
      expect(response.json().fields).toEqual([{ field: 'title', message: expect.stringContaining('NUL') }]);
    });

    it('answers a charset other than UTF-8 with 415, and accepts UTF-8 spelled either way', async () => {
      const latin1 = await post(reporter, report(), {
        'content-type': 'application/json; charset=ISO-8859-1',
      });
      expect(latin1.statusCode).toBe(415);
      expect(latin1.json()).toMatchObject({ code: 'RENKEI_UNSUPPORTED_MEDIA_TYPE' });
      for (const charset of ['utf-8', 'UTF8', '"utf-8"']) {
        const ok = await post(reporter, report(), { 'content-type': `application/json; charset=${charset}` });
        expect(ok.statusCode).toBe(202);
      }
    });

    it('answers bytes that are not UTF-8 with 400', async () => {
      const response = await http.app.inject({
        method: 'POST',
        url: '/v1/reports',
        headers: { authorization: `Bearer ${reporter}`, 'content-type': 'application/json' },
        payload: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ fields: [{ field: '(body)', message: 'is not valid UTF-8' }] });
    });

    it('answers a method the path does not have with 405 and Allow, in the error shape', async () => {
      const response = await http.app.inject({ method: 'PUT', url: '/v1/reports' });
      expect(response.statusCode).toBe(405);
      expect(response.headers.allow).toBe('POST');
      expect(response.json()).toMatchObject({ code: 'RENKEI_METHOD_NOT_ALLOWED' });
    });

    it('answers an unknown path with 404 in the error shape', async () => {
      const response = await http.app.inject({ method: 'GET', url: '/v2/nothing' });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ code: 'RENKEI_NOT_FOUND', message: 'no route GET /v2/nothing' });
    });

    it('answers headers larger than Node accepts with 431 in the error shape', async () => {
      await http.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = http.app.server.address() as { port: number };
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let text = '';
        socket.on('data', (chunk) => (text += chunk.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
        socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
        code: 'RENKEI_HEADERS_TOO_LARGE',
        message: 'the request headers are larger than allowed',
      });
    });
  });

  describe('its metrics', () => {
    it('exposes request, batch, Kafka and pool series after traffic on its own listener, not to members', async () => {
      await post(reporter, report());
      expect((await http.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
      const listener = await serveMetrics(metrics, { host: '127.0.0.1', port: 0, logger });
      let text: string;
      try {
        const response = await fetch(`${listener.url}/metrics`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toContain('text/plain');
        text = await response.text();
      } finally {
        await listener.close();
      }
      expect(text).toMatch(
        /renkei_http_request_duration_seconds_count\{[^}]*method="POST",route="\/v1\/reports",status="202"[^}]*\} [1-9]/,
      );
      expect(text).toMatch(/renkei_batch_size_count\{[^}]*stage="ingest"[^}]*\} [1-9]/);
      expect(text).toMatch(
        /renkei_kafka_messages_produced_total\{[^}]*topic="[^"]+renkei\.reports\.v1"[^}]*\} [1-9]/,
      );
      expect(text).toMatch(/renkei_db_pool_connections\{[^}]*state="total"[^}]*\} [1-9]/);
      expect(text).toContain('renkei_process_');
    });
  });

  describe('tightening a TLP', () => {
    const tighten = (token: string, id: string, body: unknown) =>
      http.app.inject({
        method: 'POST',
        url: `/v1/reports/${id}/tlp`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const changesOnTopic = async (id: string) =>
      (await readWholeTopic<Record<string, unknown>>(reportsTopic)).filter(
        (message) => message.schema === TLP_CHANGE_SCHEMA && message.reportId === id,
      );
    const audited = async (id: string) =>
      (
        await database.pool.query<{ actor: string; details: Record<string, unknown> }>(
          `SELECT actor, details FROM audit_events WHERE kind = 'report.tlp-changed' AND object = $1`,
          [id],
        )
      ).rows;
    const accepted = async () => {
      const body = report();
      expect((await post(reporter, body)).statusCode).toBe(202);
      return body.id!;
    };

    it('answers 202 once Kafka holds the change, audited once; a retry is answered again and sends nothing', async () => {
      const id = await accepted();
      const response = await tighten(reporter, id, { tlp: 'AMBER+STRICT' });
      expect(response.statusCode).toBe(202);
      expect(response.json()).toEqual({ id, tlp: 'AMBER+STRICT', status: 'accepted' });
      const [message] = await changesOnTopic(id);
      expect(tlpChangeMessageSchema.parse(message)).toMatchObject({
        reportId: id,
        tlp: 'AMBER+STRICT',
        organisationId: 'mlit-csirt',
      });
      expect(await audited(id)).toEqual([
        {
          actor: expect.any(String),
          details: { from: 'GREEN', to: 'AMBER+STRICT', reportOrganisationId: 'mlit-csirt' },
        },
      ]);

      const read = await http.app.inject({
        method: 'GET',
        url: `/v1/reports/${id}`,
        headers: { authorization: `Bearer ${reporter}` },
      });
      expect(read.json()).toMatchObject({ tlp: 'AMBER+STRICT', report: { tlp: 'GREEN' } });

      const retry = await tighten(reporter, id, { tlp: 'AMBER+STRICT' });
      expect(retry.statusCode).toBe(202);
      expect(await changesOnTopic(id)).toHaveLength(1);
      expect(await audited(id)).toHaveLength(1);
    });

    it('answers 503 when Kafka does not acknowledge, and sends the same change on the retry', async () => {
      const id = await accepted();
      kafka.inject({ kind: 'stall' });
      const refused = await tighten(reporter, id, { tlp: 'RED' });
      expect(refused.statusCode).toBe(503);
      expect(refused.json().code).toBe('RENKEI_UNAVAILABLE');
      expect(await audited(id)).toEqual([]);

      const retry = await tighten(reporter, id, { tlp: 'RED' });
      expect(retry.statusCode).toBe(202);
      const messages = await changesOnTopic(id);
      expect(messages).toHaveLength(1);
      expect(await audited(id)).toHaveLength(1);
    });

    it('lets an analyst tighten any report, from the label the accepted changes left', async () => {
      const id = await accepted();
      expect((await tighten(reporter, id, { tlp: 'AMBER' })).statusCode).toBe(202);
      const loosen = await tighten(analyst, id, { tlp: 'GREEN' });
      expect(loosen.statusCode).toBe(400);
      expect(loosen.json().fields).toEqual([{ field: 'tlp', message: expect.stringContaining('AMBER') }]);
      expect((await tighten(analyst, id, { tlp: 'AMBER+STRICT' })).statusCode).toBe(202);
      expect((await audited(id)).map((entry) => entry.details.to)).toEqual(
        expect.arrayContaining(['AMBER', 'AMBER+STRICT']),
      );
    });

    it('refuses another organisation as for a missing report, and audits the attempt', async () => {
      const id = await accepted();
      const response = await tighten(otherReporter, id, { tlp: 'RED' });
      expect(response.statusCode).toBe(404);
      const denied = await database.pool.query(
        `SELECT details FROM audit_events WHERE kind = 'access.denied' AND object = $1`,
        [id],
      );
      expect(denied.rows).toEqual([{ details: { what: 'report', action: 'tlp-change' } }]);
      expect(await changesOnTopic(id)).toEqual([]);
    });

    it('refuses a body without a valid tlp, naming it', async () => {
      const id = await accepted();
      const cases: [unknown, string][] = [
        [{}, 'tlp'],
        [{ tlp: 'amber' }, 'tlp'],
        [{ tlp: 'RED', extra: 1 }, 'extra'],
      ];
      for (const [body, field] of cases) {
        const response = await tighten(reporter, id, body);
        expect(response.statusCode).toBe(400);
        expect((response.json().fields as { field: string }[]).map((f) => f.field)).toEqual([field]);
      }
    });
  });

  describe('its OpenAPI document', () => {
    it('describes every route the service registered, with its error answers', async () => {
      expect(http.routes).toEqual(expect.arrayContaining(['POST /v1/reports', 'GET /v1/reports/:id']));
      expect((await documentedRoutes(http.app)).sort()).toEqual([...http.routes].sort());
      const document = (await http.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        openapi: string;
        paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      };
      expect(document.openapi).toBe('3.1.0');
      expect(Object.keys(document.paths['/v1/reports']!.post!.responses)).toEqual(
        expect.arrayContaining(['202', '400', '401', '403', '409', '413', '415', '500', '503']),
      );
    });

    it('serves a browsable reference at /docs without a token', async () => {
      const docs = await http.app.inject({ method: 'GET', url: '/docs/' });
      expect(docs.statusCode).toBe(200);
      expect(docs.headers['content-type']).toContain('text/html');
    });
  });
});
