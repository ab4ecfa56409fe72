import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFilesIn } from '@renkei/auth';
import type { HttpApp } from '@renkei/http';
import type { OrganisationRegistry } from '@renkei/registry';
import { createLogger } from '@renkei/runtime';
import { myReportPageSchema, type MyReportPage } from '@renkei/schema';
import {
  createMigratedTestDatabase,
  createTestKeys,
  registerOrganisations,
  TEST_ORGANISATIONS,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';
import type { GatewayDeps } from '../../src/app.js';
import { buildInProcessGatewayApp, startTestRegistry } from '../support/in-process.js';

/** The console's routes on the gateway, in-process, on a real database. */
describe('gateway: the console and its routes', () => {
  const logger = createLogger('gateway-console-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let registry: OrganisationRegistry;
  let dist: string;
  const apps: HttpApp[] = [];

  const build = async (console: GatewayDeps['console']) => {
    const http = await buildInProcessGatewayApp({
      logger,
      pool: database.pool,
      keys,
      registry,
      ...(console ? { console } : {}),
    });
    apps.push(http);
    return http;
  };

  beforeAll(async () => {
    [database, keys] = await Promise.all([createMigratedTestDatabase(), createTestKeys()]);
    await registerOrganisations(database, Object.values(TEST_ORGANISATIONS));
    registry = await startTestRegistry(database, { logger, pollEveryMs: 1_000 });
    dist = await mkdtemp(path.join(tmpdir(), 'renkei-console-'));
    await mkdir(path.join(dist, 'assets'));
    await writeFile(path.join(dist, 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(path.join(dist, 'assets', 'index-1.js'), 'export {};');
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close(1_000)));
    await registry?.close();
    await database?.drop();
    await keys?.remove();
    await rm(dist, { recursive: true, force: true });
  });

  const settings = (devMode: boolean) => ({
    distDir: dist,
    ingestUrl: 'http://127.0.0.1:7400',
    devMode: devMode
      ? {
          signingKeyFile: path.join(path.dirname(keys.jwksFile), path.basename(keyFilesIn('.').signingKey)),
          issuer: 'renkei',
          audience: 'renkei-api',
        }
      : null,
  });

  it('serves the page and its assets without a token, under a CSP with no inline script', async () => {
    const http = await build(settings(false));
    const page = await http.app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<title>console</title>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    const script = await http.app.inject({ method: 'GET', url: '/assets/index-1.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await http.app.inject({ method: 'GET', url: '/assets/missing.js' })).statusCode).toBe(404);
    for (const url of ['/assets/..%2Findex.html', '/assets/..%2F..%2F..%2Fetc%2Fpasswd', '/assets/.hidden'])
      expect((await http.app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    const config = await http.app.inject({ method: 'GET', url: '/console-config.json' });
    expect(config.json()).toEqual({
      ingestUrl: 'http://127.0.0.1:7400',
      devMode: false,
      heartbeatMs: 30_000,
    });
  });

  it('says how to build the console when it was never built', async () => {
    const http = await build({ ...settings(false), distDir: path.join(dist, 'nowhere') });
    const page = await http.app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(503);
    expect(page.body).toMatch(/has not been built.*\n.*build/);
  });

  it('refuses demo sign-in unless the hub runs in development mode', async () => {
    const http = await build(settings(false));
    expect((await http.app.inject({ method: 'GET', url: '/v1/dev/identities' })).statusCode).toBe(404);
    const minted = await http.app.inject({
      method: 'POST',
      url: '/v1/dev/token',
      payload: { organisationId: 'gsoc', role: 'analyst' },
    });
    expect(minted.statusCode).toBe(404);
    const without = await build(undefined);
    expect((await without.app.inject({ method: 'GET', url: '/' })).statusCode).toBe(404);
  });

  it('in development mode, mints demo tokens the hub honours, and never analyst for a CEPTAR', async () => {
    const http = await build(settings(true));
    const identities = await http.app.inject({ method: 'GET', url: '/v1/dev/identities' });
    expect(identities.json().items).toContainEqual(
      expect.objectContaining({ organisationId: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] }),
    );
    const minted = await http.app.inject({
      method: 'POST',
      url: '/v1/dev/token',
      payload: { organisationId: 'finance-ceptar', role: 'ceptar' },
    });
    expect(minted.statusCode).toBe(200);
    const { token } = minted.json() as { token: string };
    const alerts = await http.app.inject({
      method: 'GET',
      url: '/v1/alerts',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(alerts.statusCode).toBe(200);
    const refused = await http.app.inject({
      method: 'POST',
      url: '/v1/dev/token',
      payload: { organisationId: 'finance-ceptar', role: 'analyst' },
    });
    expect(refused.statusCode).toBe(403);
    const unknown = await http.app.inject({
      method: 'POST',
      url: '/v1/dev/token',
      payload: { organisationId: 'nobody', role: 'reporter' },
    });
    expect(unknown.statusCode).toBe(404);
    const bad = await http.app.inject({
      method: 'POST',
      url: '/v1/dev/token',
      payload: { role: 'reporter' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fields[0].field).toBe('organisationId');
  });

  it('never mints admin: a 400 naming role, and the GSOC is offered analyst only', async () => {
    const http = await build(settings(true));
    const identities = await http.app.inject({ method: 'GET', url: '/v1/dev/identities' });
    expect(identities.statusCode).toBe(200);
    const roles = (identities.json() as { items: { roles: string[] }[] }).items.flatMap((item) => item.roles);
    expect(roles).toContain('analyst');
    expect(roles).not.toContain('admin');
    const admin = await http.app.inject({
      method: 'POST',
      url: '/v1/dev/token',
      payload: { organisationId: 'gsoc', role: 'admin' },
    });
    expect(admin.statusCode).toBe(400);
    expect(admin.json().code).toBe('RENKEI_INVALID_REQUEST');
    expect(admin.json().fields).toEqual([
      { field: 'role', message: expect.stringContaining('admin is never minted by demo sign-in') },
    ]);
    expect(admin.body).not.toContain('token"');
  });

  it('answers only the loopback interface: another peer address, a proxy or a foreign Host is refused', async () => {
    const http = await build(settings(true));
    const mint = (options: { remoteAddress?: string; headers?: Record<string, string> }) =>
      http.app.inject({
        method: 'POST',
        url: '/v1/dev/token',
        payload: { organisationId: 'finance-ceptar', role: 'ceptar' },
        ...options,
      });
    for (const remoteAddress of ['192.0.2.7', '10.0.0.5', 'fd00::7', '::ffff:192.0.2.7']) {
      const refused = await mint({ remoteAddress });
      expect(refused.statusCode, remoteAddress).toBe(403);
      expect(refused.json().message).toMatch(/only requests from this machine/);
      const identities = await http.app.inject({ method: 'GET', url: '/v1/dev/identities', remoteAddress });
      expect(identities.statusCode, remoteAddress).toBe(403);
      const config = await http.app.inject({ method: 'GET', url: '/console-config.json', remoteAddress });
      expect(config.json().devMode, remoteAddress).toBe(false);
    }
    // Headers never admit a remote peer...
    const spoofed = await mint({ remoteAddress: '192.0.2.7', headers: { 'x-forwarded-for': '127.0.0.1' } });
    expect(spoofed.statusCode).toBe(403);
    // ...but they do refuse a loopback one: a local proxy relaying, or a rebound name.
    expect((await mint({ headers: { 'x-forwarded-for': '192.0.2.7' } })).statusCode).toBe(403);
    expect((await mint({ headers: { forwarded: 'for=192.0.2.7' } })).statusCode).toBe(403);
    expect((await mint({ headers: { host: 'attacker.example:7401' } })).statusCode).toBe(403);
    expect((await mint({ headers: { origin: 'http://attacker.example' } })).statusCode).toBe(403);
    for (const remoteAddress of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1'])
      expect((await mint({ remoteAddress })).statusCode, remoteAddress).toBe(200);
    expect(
      (await mint({ headers: { host: '[::1]:7401', origin: 'http://localhost:7401' } })).statusCode,
    ).toBe(200);
  });

  // The peer address as the kernel reports it, over a real socket: the gateway
  // listens on every interface and is reached through this machine's own
  // non-loopback address.
  const ownAddress = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;
  it.skipIf(ownAddress === undefined)(
    `refuses a real connection from this machine's non-loopback address (${ownAddress ?? 'none here'})`,
    async () => {
      const http = await build(settings(true));
      const url = new URL(await http.listen({ host: '0.0.0.0', port: 0, onFailure: () => undefined }));
      const at = (host: string) => `http://${host}:${url.port}`;
      const body = JSON.stringify({ organisationId: 'finance-ceptar', role: 'ceptar' });
      const post = (host: string) =>
        fetch(`${at(host)}/v1/dev/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', host: `127.0.0.1:${url.port}` },
          body,
        });
      const remote = await post(ownAddress!);
      expect(remote.status).toBe(403);
      // Refused for the peer address itself, not for the Host header.
      expect(await remote.json()).toMatchObject({
        code: 'RENKEI_FORBIDDEN',
        message: expect.stringMatching(/only requests from this machine/),
      });
      expect((await fetch(`${at(ownAddress!)}/v1/dev/identities`)).status).toBe(403);
      const local = await post('127.0.0.1');
      expect(local.status).toBe(200);
    },
  );

  it('records every mint in the audit log before the token is handed out', async () => {
    const http = await build(settings(true));
    const before = await database.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_events WHERE kind = 'token.minted'`,
    );
    const minted = await http.app.inject({
      method: 'POST',
      url: '/v1/dev/token',
      payload: { organisationId: 'gsoc', role: 'analyst' },
    });
    expect(minted.statusCode).toBe(200);
    const refused = await http.app.inject({
      method: 'POST',
      url: '/v1/dev/token',
      payload: { organisationId: 'gsoc', role: 'admin' },
    });
    expect(refused.statusCode).toBe(400);
    const { rows } = await database.pool.query<Record<string, unknown>>(
      `SELECT kind, actor, organisation_id AS "organisationId", object, outcome, details
         FROM audit_events WHERE kind = 'token.minted' ORDER BY id`,
    );
    expect(rows.length - Number(before.rows[0]!.n)).toBe(1);
    const event = rows.at(-1);
    expect(event).toEqual({
      kind: 'token.minted',
      actor: null,
      organisationId: 'gsoc',
      object: 'gsoc-analyst-demo',
      outcome: 'success',
      details: { via: 'demo sign-in', role: 'analyst', ttl: '8h', remoteAddress: '127.0.0.1' },
    });
    // The log holds no token.
    expect(JSON.stringify(event)).not.toContain((minted.json() as { token: string }).token);
    // Administrators find it through the audit route like any other act.
    const admin = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['admin'] });
    const listed = await http.app.inject({
      method: 'GET',
      url: '/v1/audit?kind=token.minted',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(listed.statusCode).toBe(200);
    expect((listed.json() as { items: { object: string }[] }).items.map((item) => item.object)).toContain(
      'gsoc-analyst-demo',
    );
  });

  /** A submission as ingest stores it, and as the correlator stores it when `processed`. */
  const submitOwn = async (
    organisationId: string,
    title: string,
    receivedAt: string,
    processed: boolean,
    source?: { id: string; version: string },
  ) => {
    const id = randomUUID();
    const report = {
      id,
      title,
      category: 'phishing',
      severity: 'high',
      tlp: 'AMBER',
      detectedAt: receivedAt,
      indicators: [],
      exercise: false,
    };
    await database.pool.query(
      `INSERT INTO report_submissions (id, organisation_id, sector, submitted_by, content_sha256, envelope, state, received_at)
       VALUES ($1, $2, 'central-government', 'tester', $3, $4, 'accepted', $5)`,
      [id, organisationId, '0'.repeat(64), { report }, receivedAt],
    );
    if (processed)
      await database.pool.query(
        `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp, detected_at,
                              received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset, processed_at,
                              source_id, source_version, source_part, source_parts)
         VALUES ($1, $2, 'central-government', 'tester', $3, 'phishing', 'high', 'RED', $4, $4, false, $5, 'test', 0, 0, now(),
                 $6, $7, CASE WHEN $6::uuid IS NULL THEN NULL ELSE 1 END, CASE WHEN $6::uuid IS NULL THEN NULL ELSE 1 END)`,
        [id, organisationId, title, receivedAt, '0'.repeat(64), source?.id ?? null, source?.version ?? null],
      );
    return id;
  };

  it("lists a caller's own organisation's reports with their status, newest first", async () => {
    const http = await build(undefined);
    const submit = submitOwn;
    // Two received in the same instant: paging by time alone would skip one.
    const older = await submit('mlit-csirt', 'older', '2026-11-29T10:00:00Z', true);
    const twin = await submit('mlit-csirt', 'twin', '2026-11-29T10:00:00Z', false);
    const newer = await submit('mlit-csirt', 'newer', '2026-11-29T11:00:00Z', false);
    await submit('mhlw-csirt', 'theirs', '2026-11-29T12:00:00Z', true);
    const token = await keys.token({ org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] });
    const pages: MyReportPage[] = [];
    for (let before: string | null | undefined; before !== null; before = pages.at(-1)!.nextBefore) {
      const answer = await http.app.inject({
        method: 'GET',
        url: `/v1/reports?limit=1${before ? `&before=${before}` : ''}`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(answer.statusCode).toBe(200);
      pages.push(myReportPageSchema.parse(answer.json()));
      if (pages.length > 5) break;
    }
    const listed = pages.flatMap((page) => page.items);
    expect(listed.map((item) => item.id)).toEqual([newer, ...[older, twin].sort().reverse()]);
    expect(listed.find((item) => item.id === newer)).toMatchObject({
      title: 'newer',
      status: 'accepted',
      tlp: 'AMBER',
    });
    // Once stored, the report's label is the one it has now (the correlator applies tightenings there).
    expect(listed.find((item) => item.id === older)).toMatchObject({ status: 'processed', tlp: 'RED' });
    const badCursor = await http.app.inject({
      method: 'GET',
      url: '/v1/reports?before=yesterday',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().fields[0].field).toBe('before');
    expect((await http.app.inject({ method: 'GET', url: '/v1/reports' })).statusCode).toBe(401);
  });

  it('lists the latest version of a source object unless every version is asked for', async () => {
    const http = await build(undefined);
    const source = randomUUID();
    const first = await submitOwn('soumu-csirt', 'v1', '2026-11-30T10:00:00Z', true, {
      id: source,
      version: '2026-11-30T09:00:00Z',
    });
    const second = await submitOwn('soumu-csirt', 'v2', '2026-11-30T11:00:00Z', true, {
      id: source,
      version: '2026-11-30T10:30:00Z',
    });
    const pending = await submitOwn('soumu-csirt', 'not stored yet', '2026-11-30T12:00:00Z', false);
    const token = await keys.token({ org: 'soumu-csirt', sector: 'central-government', roles: ['reporter'] });
    const list = async (query: string) => {
      const answer = await http.app.inject({
        method: 'GET',
        url: `/v1/reports${query}`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(answer.statusCode).toBe(200);
      return myReportPageSchema.parse(answer.json()).items;
    };
    const latest = await list('');
    expect(latest.map((item) => item.id)).toEqual([pending, second]);
    expect(latest.every((item) => item.supersededBy === null)).toBe(true);
    const all = await list('?versions=all');
    expect(all.map((item) => [item.id, item.supersededBy])).toEqual([
      [pending, null],
      [second, null],
      [first, second],
    ]);
    const bad = await http.app.inject({
      method: 'GET',
      url: '/v1/reports?versions=some',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fields[0].field).toBe('versions');
  });
});
