import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alertPageSchema,
  reportStatusViewSchema,
  type AlertFrame,
  type ReportSubmission,
} from '@renkei/schema';
import {
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  openStream,
  randomTopicPrefix,
  registerOrganisations,
  sleep,
  spawnServices,
  waitUntilReady,
  type ServiceProcess,
  type StreamClient,
  type TestDatabase,
  type TestKeys,
  TEST_ORGANISATIONS,
} from '@renkei/testing';
import { REPORT_HOPS } from '@renkei/metrics';
import { hopCount, parseHopHistograms, type HopHistograms } from '../../bench/lib/hops.js';

/**
 * One report's whole path on real parts: ingest → Kafka → correlator →
 * PostgreSQL → alerts topic → gateway → WebSocket, each service its own process.
 */
describe('a report travels from ingest to a live alert', () => {
  let database: TestDatabase;
  let keys: TestKeys;
  let prefix: string;
  const services: ServiceProcess[] = [];
  let ingestUrl: string;
  let gatewayUrl: string;
  const tokens = {} as Record<'agency' | 'bank' | 'analyst' | 'water' | 'admin', string>;
  const streams: StreamClient[] = [];

  beforeAll(async () => {
    [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
    prefix = randomTopicPrefix();
    const env = { DATABASE_URL: database.url, KAFKA_TOPIC_PREFIX: prefix, AUTH_JWKS_FILE: keys.jwksFile };
    // Started together, so the migration lock is exercised on every run.
    const [correlator, ingest, gateway] = await spawnServices([
      { name: 'correlator', env },
      { name: 'ingest', env },
      { name: 'gateway', env },
    ]);
    services.push(correlator!, ingest!, gateway!);
    ingestUrl = ingest!.url!;
    gatewayUrl = gateway!.url!;
    await Promise.all([waitUntilReady(ingestUrl), waitUntilReady(gatewayUrl)]);
    // Registered once the services run: their registry copies follow the change by themselves.
    const { mlitCsirt, financeCeptar, gsoc, waterCeptar } = TEST_ORGANISATIONS;
    await registerOrganisations(database, [mlitCsirt, financeCeptar, gsoc, waterCeptar]);

    tokens.agency = await keys.token({
      org: 'mlit-csirt',
      sector: 'central-government',
      roles: ['reporter'],
    });
    tokens.bank = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
    tokens.analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    tokens.water = await keys.token({ org: 'water-ceptar', sector: 'water', roles: ['ceptar'] });
    tokens.admin = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['admin'] });
    await eventually(async () => {
      const answers = await Promise.all([
        fetch(`${gatewayUrl}/v1/alerts`, { headers: { authorization: `Bearer ${tokens.water}` } }),
        fetch(`${ingestUrl}/v1/reports/${randomUUID()}`, {
          headers: { authorization: `Bearer ${tokens.agency}` },
        }),
      ]);
      expect(answers.map((answer) => answer.status)).toEqual([200, 404]);
    });
  });

  afterAll(async () => {
    await Promise.all(streams.map((stream) => stream.close()));
    const codes = await Promise.all(services.map((service) => service.stop()));
    expect(codes, 'every service drains and exits 0 on SIGTERM').toEqual(services.map(() => 0));
    await database?.drop();
    await keys?.remove();
    await deleteTopicsWithPrefix(prefix);
  });

  const report = (overrides: Partial<ReportSubmission> = {}): ReportSubmission => ({
    title: 'Spear-phishing with a malicious attachment',
    category: 'targeted-attack',
    severity: 'high',
    tlp: 'GREEN',
    detectedAt: '2026-11-28T08:30:00+09:00',
    indicators: [],
    ...overrides,
  });

  const post = (token: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${ingestUrl}/v1/reports`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  /**
   * Announces a body larger than allowed and waits for the answer before
   * sending it, as a client using `Expect: 100-continue` would: a body sent
   * regardless races the server's close, and the answer can be lost to a reset.
   */
  const announceOversizedBody = (url: string, token: string, bytes: number) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${url}/v1/reports`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(bytes),
          authorization: `Bearer ${token}`,
        },
      });
      request.on('response', (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => {
          request.destroy();
          resolve({ status: response.statusCode!, body: text });
        });
      });
      request.on('error', reject);
      request.flushHeaders();
    });

  const getReport = (token: string, id: string) =>
    fetch(`${ingestUrl}/v1/reports/${id}`, { headers: { authorization: `Bearer ${token}` } });

  const alertFrames = (stream: StreamClient) =>
    stream.frames.filter((frame): frame is AlertFrame => frame.type === 'alert');

  it('raises exactly one alert for an indicator two organisations of different sectors report', async () => {
    const analyst = await openStream(gatewayUrl, tokens.analyst);
    const bankViewer = await openStream(gatewayUrl, tokens.bank, { via: 'query' });
    streams.push(analyst, bankViewer);
    await analyst.next((frame) => frame.type === 'welcome');
    const welcome = await bankViewer.next((frame) => frame.type === 'welcome');
    expect(welcome).toMatchObject({ principal: { organisationId: 'finance-ceptar', sector: 'finance' } });

    const fromAgency = await post(
      tokens.agency,
      report({ tlp: 'AMBER', indicators: [{ type: 'domain', value: 'update-check.example', role: 'c2' }] }),
    );
    const fromBank = await post(
      tokens.bank,
      report({
        indicators: [
          { type: 'domain', value: 'Update-Check.example.' },
          { type: 'ipv4', value: '198.51.100.23' },
        ],
      }),
    );
    expect(fromAgency.status).toBe(202);
    expect(fromBank.status).toBe(202);
    const agencyReport = (await fromAgency.json()) as { id: string; status: string };
    const bankReport = (await fromBank.json()) as { id: string; status: string };
    expect(agencyReport.status).toBe('accepted');

    const frame = (await analyst.next((f) => f.type === 'alert')) as AlertFrame;
    expect(frame.alert).toMatchObject({
      version: 1,
      kind: 'shared-indicator',
      tlp: 'AMBER',
      severity: 'high',
      indicators: [{ type: 'domain', value: 'update-check.example' }],
      sectors: ['central-government', 'finance'],
      organisationCount: 2,
      exercise: false,
    });
    expect(frame.alert.reportIds.sort()).toEqual([agencyReport.id, bankReport.id].sort());
    expect(frame.cursor).toMatch(/^[A-Za-z0-9_-]{22}$/);

    // Nothing else is on its way: no second alert. The bank reported the indicator too, so
    // the agency's AMBER report counts for it, and tells it nothing more (no sector, no report).
    await sleep(2_000);
    expect(alertFrames(analyst)).toHaveLength(1);
    expect(alertFrames(bankViewer).map((f) => f.alert)).toEqual([
      expect.objectContaining({
        tlp: 'AMBER',
        organisationCount: 2,
        sectors: ['finance'],
        reportIds: [bankReport.id],
      }),
    ]);
    expect(JSON.stringify(bankViewer.frames)).not.toContain('mlit-csirt');

    for (const [token, id] of [
      [tokens.agency, agencyReport.id],
      [tokens.bank, bankReport.id],
    ] as const) {
      const view = await eventually(async () => {
        const response = await getReport(token, id);
        expect(response.status).toBe(200);
        const body = reportStatusViewSchema.parse(await response.json());
        expect(body.status).toBe('processed');
        return body;
      });
      expect(view.id).toBe(id);
      expect(view.processedAt).not.toBeNull();
    }
  });

  it('shares a GREEN alert with sector bodies, naming only their own reports', async () => {
    const bankViewer = await openStream(gatewayUrl, tokens.bank);
    streams.push(bankViewer);
    await bankViewer.next((frame) => frame.type === 'welcome');
    const sha256 = 'a'.repeat(63) + 'b';
    const mine = (await (
      await post(tokens.bank, report({ indicators: [{ type: 'sha256', value: sha256 }] }))
    ).json()) as {
      id: string;
    };
    const theirs = (await (
      await post(tokens.water, report({ indicators: [{ type: 'sha256', value: sha256.toUpperCase() }] }))
    ).json()) as { id: string };
    const frame = (await bankViewer.next(
      (f) => f.type === 'alert' && f.alert.indicators[0]?.value === sha256,
    )) as AlertFrame;
    expect(frame.alert.reportIds).toEqual([mine.id]);
    expect(frame.alert.reportIds).not.toContain(theirs.id);
    expect(JSON.stringify(frame)).not.toContain('water-ceptar');
  });

  it('lists alerts newest first, filtered by who asks', async () => {
    const list = async (token: string, query = '') => {
      const response = await fetch(`${gatewayUrl}/v1/alerts${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
      return alertPageSchema.parse(await response.json());
    };
    const all = await eventually(async () => {
      const page = await list(tokens.analyst);
      expect(page.items).toHaveLength(2);
      return page;
    });
    // Newest first; cursors are opaque, so the order shows in the times of the versions listed.
    expect(all.items[0]!.cursor).not.toBe(all.items[1]!.cursor);
    expect(Date.parse(all.items[0]!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(all.items[1]!.updatedAt));
    const firstPage = await list(tokens.analyst, '?limit=1');
    expect(firstPage.items).toHaveLength(1);
    const secondPage = await list(tokens.analyst, `?limit=1&before=${firstPage.nextBefore}`);
    expect(secondPage.items[0]!.id).toBe(all.items[1]!.id);

    const shared = await list(tokens.water);
    expect(shared.items.map((item) => item.tlp)).toEqual(['GREEN']);

    const bad = await fetch(`${gatewayUrl}/v1/alerts?limit=0`, {
      headers: { authorization: `Bearer ${tokens.analyst}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { fields: { field: string }[] }).fields[0]!.field).toBe('limit');
  });

  it('refuses what clients get wrong with a 4xx that names the problem', async () => {
    const malformed = await post(
      tokens.agency,
      report({
        indicators: [
          { type: 'ipv4', value: '192.0.2.1' },
          { type: 'hostname' as 'domain', value: 'x' },
        ],
      }),
    );
    expect(malformed.status).toBe(400);
    const body = (await malformed.json()) as { code: string; fields: { field: string }[] };
    expect(body.code).toBe('RENKEI_INVALID_REQUEST');
    expect(body.fields.map((f) => f.field)).toEqual(['indicators[1].type']);

    const smuggled = await post(tokens.agency, { ...report(), organisationId: 'someone-else' });
    expect(smuggled.status).toBe(400);
    expect(((await smuggled.json()) as { fields: { field: string }[] }).fields[0]!.field).toBe(
      'organisationId',
    );

    expect((await post(undefined, report())).status).toBe(401);
    expect((await post('not-a-token', report())).status).toBe(401);
    expect((await post(tokens.admin, report())).status).toBe(403);
    expect((await post(tokens.agency, 'title=hello', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(tokens.agency, '{"title": ')).status).toBe(400);
    const huge = await announceOversizedBody(ingestUrl, tokens.agency, 2 * 1024 * 1024);
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body)).toMatchObject({ code: 'RENKEI_PAYLOAD_TOO_LARGE' });
    expect((await getReport(tokens.agency, 'not-a-uuid')).status).toBe(400);

    const stream = openStream(gatewayUrl, 'not-a-token');
    await expect(stream).rejects.toThrow('HTTP 401');
  });

  it('answers a refused WebSocket upgrade with 401 and closes the connection itself', async () => {
    // A client that never hangs up must not keep a socket (and the gateway's shutdown) waiting.
    const { hostname, port } = new URL(gatewayUrl);
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    const closedByServer = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      'GET /v1/stream HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Authorization: Bearer not-a-token\r\n\r\n',
    );
    const timedOut = sleep(10_000).then(() => 'still open' as const);
    expect(await Promise.race([closedByServer.then(() => 'closed' as const), timedOut])).toBe('closed');
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer).toContain('RENKEI_UNAUTHENTICATED');
  });

  it('stores one report when the same id is posted twice, and refuses the id with another body', async () => {
    const id = randomUUID();
    const body = report({ id, indicators: [{ type: 'cve', value: 'CVE-2024-3400' }] });
    const first = await post(tokens.agency, body);
    // Same content, different key order and spacing: still the same report.
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(body).reverse()), null, 2);
    const second = await post(tokens.agency, reordered);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(await second.json()).toEqual(await first.json());

    const conflicting = await post(tokens.agency, { ...body, title: 'Something else' });
    expect(conflicting.status).toBe(409);
    const otherOrganisation = await post(tokens.bank, body);
    expect(otherOrganisation.status).toBe(409);

    await eventually(async () => {
      const response = await getReport(tokens.agency, id);
      expect(((await response.json()) as { status: string }).status).toBe('processed');
    });
    const stored = await database.pool.query('SELECT count(*)::int AS n FROM reports WHERE id = $1', [id]);
    expect(stored.rows[0].n).toBe(1);
    const indicators = await database.pool.query(
      'SELECT count(*)::int AS n FROM report_indicators WHERE report_id = $1',
      [id],
    );
    expect(indicators.rows[0].n).toBe(1);
  });

  it('shows a report to its organisation and to analysts, and to nobody else', async () => {
    const response = await post(tokens.agency, report({ tlp: 'RED' }));
    const { id } = (await response.json()) as { id: string };
    expect((await getReport(tokens.agency, id)).status).toBe(200);
    expect((await getReport(tokens.analyst, id)).status).toBe(200);
    expect((await getReport(tokens.bank, id)).status).toBe(404);
    expect((await getReport(tokens.agency, randomUUID())).status).toBe(404);
  });

  it("times every hop of a report's path in /metrics, from ingest's queue to the viewer's socket", async () => {
    const hops = async (): Promise<HopHistograms> => {
      const into: HopHistograms = new Map();
      for (const service of services) {
        expect(service.metricsUrl, 'every service serves /metrics').toBeDefined();
        parseHopHistograms(await (await fetch(`${service.metricsUrl!}/metrics`)).text(), into);
      }
      return into;
    };
    const analyst = await openStream(gatewayUrl, tokens.analyst);
    streams.push(analyst);
    await analyst.next((frame) => frame.type === 'welcome');
    const before = await hops();

    const indicators = [{ type: 'domain' as const, value: `hop-${randomUUID().slice(0, 8)}.example` }];
    expect((await post(tokens.agency, report({ indicators }))).status).toBe(202);
    expect((await post(tokens.bank, report({ indicators }))).status).toBe(202);
    await analyst.next(
      (frame) =>
        frame.type === 'alert' && frame.alert.indicators.some((i) => i.value === indicators[0]!.value),
    );

    // The relay marks an event published after Kafka's acknowledgement: wait for every hop to move.
    await eventually(async () => {
      const after = await hops();
      const moved = Object.fromEntries(
        REPORT_HOPS.map((hop) => [hop, hopCount(after.get(hop)) - hopCount(before.get(hop))]),
      );
      for (const hop of REPORT_HOPS)
        expect(moved[hop], `${hop}: ${JSON.stringify(moved)}`).toBeGreaterThan(0);
      // Both reports went through ingest's own hops, once each.
      expect(moved['ingest-kafka']).toBe(2);
    });
  });
});
