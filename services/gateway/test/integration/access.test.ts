import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpApp } from '@renkei/http';
import { createLogger, type Logger } from '@renkei/runtime';
import {
  auditEventSchema,
  organisationSchema,
  warningViewSchema,
  type Role,
  type WarningSubmission,
} from '@renkei/schema';
import { TEST_ORGANISATIONS, type TestDatabase, type TestKeys, type TestOrganisation } from '@renkei/testing';
import { startInProcessGateway, type InProcessGateway } from '../support/in-process.js';

/** The gateway's registry, warning and audit routes, in this process on a real database. */
describe('gateway access routes, built in-process', () => {
  const logLines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  ) as Logger;
  let database: TestDatabase;
  let keys: TestKeys;
  let http: HttpApp;
  let gateway: InProcessGateway;
  const { gsoc, financeCeptar, waterCeptar, railCeptar, acmeBank, mlitCsirt } = TEST_ORGANISATIONS;
  const token = (organisation: TestOrganisation, roles: Role[], sub?: string) =>
    keys.token({ org: organisation.id, sector: organisation.sector, roles, ...(sub ? { sub } : {}) });

  beforeAll(async () => {
    gateway = await startInProcessGateway({
      organisations: [gsoc, financeCeptar, waterCeptar, railCeptar, acmeBank, mlitCsirt],
      logger,
      registryLogger: createLogger('registry-test', 'silent'),
    });
    ({ database, keys, http } = gateway);
  });
  afterAll(async () => {
    await gateway?.close();
  });

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, bearer: string, body?: unknown) =>
    http.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });

  describe('organisations', () => {
    it('lets administrators add, disable and enable organisations; a disabled one is refused at once', async () => {
      const admin = await token(gsoc, ['admin'], 'root-admin');
      const added = await call('POST', '/v1/organisations', admin, {
        id: 'gas-ceptar',
        name: 'Gas CEPTAR',
        sector: 'gas',
        kind: 'ceptar',
      });
      expect(added.statusCode).toBe(201);
      expect(organisationSchema.parse(added.json())).toMatchObject({ id: 'gas-ceptar', enabled: true });
      expect((await call('POST', '/v1/organisations', admin, added.json())).statusCode).toBe(400);
      const again = await call('POST', '/v1/organisations', admin, {
        id: 'gas-ceptar',
        name: 'x',
        sector: 'gas',
        kind: 'ceptar',
      });
      expect(again.statusCode).toBe(409);

      const gas = await keys.token({ org: 'gas-ceptar', sector: 'gas', roles: ['ceptar'] });
      expect((await call('GET', '/v1/warnings', gas)).statusCode).toBe(200);
      const disabled = await call('POST', '/v1/organisations/gas-ceptar/disable', admin);
      expect(disabled.json()).toMatchObject({ enabled: false });
      expect((await call('GET', '/v1/warnings', gas)).statusCode).toBe(401);
      expect((await call('POST', '/v1/organisations/gas-ceptar/enable', admin)).json()).toMatchObject({
        enabled: true,
      });
      expect((await call('GET', '/v1/warnings', gas)).statusCode).toBe(200);
      expect((await call('POST', '/v1/organisations/nobody/disable', admin)).statusCode).toBe(404);

      const list = await call('GET', '/v1/organisations', await token(gsoc, ['analyst']));
      expect(list.statusCode).toBe(200);
      expect(list.json().items.map((o: { id: string }) => o.id)).toContain('gas-ceptar');
      expect(
        (await call('GET', '/v1/organisations', await token(financeCeptar, ['ceptar']))).statusCode,
      ).toBe(403);
      expect(
        (await call('POST', '/v1/organisations/gas-ceptar/disable', await token(gsoc, ['analyst'])))
          .statusCode,
      ).toBe(403);
    });

    it("lets administrators change an organisation's name and e-mail language, audited with both values", async () => {
      const admin = await token(gsoc, ['admin'], 'language-admin');
      const added = await call('POST', '/v1/organisations', admin, {
        id: 'tetsudo-ceptar',
        name: 'Rail CEPTAR',
        sector: 'railway',
        kind: 'ceptar',
      });
      expect(added.json()).toMatchObject({ language: 'ja' });
      const changed = await call('PATCH', '/v1/organisations/tetsudo-ceptar', admin, { language: 'en' });
      expect(changed.statusCode).toBe(200);
      expect(organisationSchema.parse(changed.json())).toMatchObject({
        id: 'tetsudo-ceptar',
        name: 'Rail CEPTAR',
        language: 'en',
      });
      const { rows } = await database.pool.query<{ details: Record<string, unknown> }>(
        "SELECT details FROM audit_events WHERE kind = 'organisation.changed' AND object = 'tetsudo-ceptar'",
      );
      expect(rows.map((row) => row.details)).toEqual([{ language: { from: 'ja', to: 'en' } }]);

      const refused = await call('PATCH', '/v1/organisations/tetsudo-ceptar', admin, { language: 'fr' });
      expect(refused.statusCode).toBe(400);
      expect(JSON.stringify(refused.json())).toContain('language');
      expect((await call('PATCH', '/v1/organisations/tetsudo-ceptar', admin, {})).statusCode).toBe(400);
      expect((await call('PATCH', '/v1/organisations/nobody', admin, { name: 'x' })).statusCode).toBe(404);
      expect(
        (
          await call('PATCH', '/v1/organisations/tetsudo-ceptar', await token(gsoc, ['analyst']), {
            name: 'x',
          })
        ).statusCode,
      ).toBe(403);
    });
  });

  describe('warnings', () => {
    const warning: WarningSubmission = {
      title: 'Phishing kit aimed at banks and water utilities',
      body: 'Block the listed domain and report sightings.',
      severity: 'high',
      tlp: 'AMBER',
      sectors: ['water', 'finance'],
      indicators: [
        { type: 'domain', value: 'Login-Update.Example.' },
        { type: 'domain', value: 'login-update.example' },
      ],
    };

    it('publishes to the targeted sectors only, and tracks acknowledgements per organisation', async () => {
      const analyst = await token(gsoc, ['analyst'], 'watch-officer');
      const published = await call('POST', '/v1/warnings', analyst, warning);
      expect(published.statusCode).toBe(201);
      const view = warningViewSchema.parse(published.json());
      expect(view).toMatchObject({
        sectors: ['finance', 'water'],
        indicators: [{ type: 'domain', value: 'login-update.example' }],
        exercise: false,
      });
      expect(published.body).not.toContain('watch-officer');

      const finance = await token(financeCeptar, ['ceptar']);
      const bank = await token(acmeBank, ['reporter']);
      const rail = await token(railCeptar, ['ceptar']);
      const bankAdmin = await token(gsoc, ['admin']);
      for (const recipient of [finance, bank]) {
        expect(
          (await call('GET', '/v1/warnings', recipient)).json().items.map((w: { id: string }) => w.id),
        ).toEqual([view.id]);
        expect((await call('GET', `/v1/warnings/${view.id}`, recipient)).json()).toMatchObject({
          id: view.id,
          acknowledgedAt: null,
        });
      }
      for (const outsider of [rail, bankAdmin]) {
        expect((await call('GET', '/v1/warnings', outsider)).json().items).toEqual([]);
        expect((await call('GET', `/v1/warnings/${view.id}`, outsider)).statusCode).toBe(404);
        expect((await call('POST', `/v1/warnings/${view.id}/ack`, outsider)).statusCode).toBe(404);
      }

      const ack = await call('POST', `/v1/warnings/${view.id}/ack`, finance);
      expect(ack.statusCode).toBe(200);
      expect(ack.json()).toMatchObject({ warningId: view.id, organisationId: 'finance-ceptar' });
      const repeat = await call('POST', `/v1/warnings/${view.id}/ack`, finance);
      expect(repeat.json()).toEqual(ack.json());
      expect((await call('POST', `/v1/warnings/${view.id}/ack`, analyst)).statusCode).toBe(403);

      const detail = (await call('GET', `/v1/warnings/${view.id}`, analyst)).json();
      expect(detail.acknowledgedBy).toEqual([{ organisationId: 'finance-ceptar', at: ack.json().at }]);
      expect(detail.pendingOrganisations).toEqual(['acme-bank', 'water-ceptar']);
      expect((await call('GET', `/v1/warnings/${view.id}`, finance)).json().acknowledgedAt).toBe(
        ack.json().at,
      );

      const feed = await database.pool.query<{ kind: string }>(
        `SELECT kind FROM feed_outbox UNION ALL SELECT kind FROM feed_events`,
      );
      expect(feed.rows.map((row) => row.kind).sort()).toEqual(['warning', 'warning-ack']);
    });

    it('refuses a warning from anyone but an analyst, and a bad one naming the field', async () => {
      expect(
        (await call('POST', '/v1/warnings', await token(financeCeptar, ['ceptar']), warning)).statusCode,
      ).toBe(403);
      const bad = await call('POST', '/v1/warnings', await token(gsoc, ['analyst']), {
        ...warning,
        sectors: ['banking'],
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().fields[0].field).toMatch(/^sectors/);
    });
  });

  describe('the audit log', () => {
    it('pages newest first by cursor and filters by kind, organisation, actor and time, for administrators', async () => {
      const admin = await token(gsoc, ['admin']);
      const all = (await call('GET', '/v1/audit?limit=500', admin)).json();
      expect(all.items.length).toBeGreaterThan(4);
      for (const item of all.items) auditEventSchema.parse(item);
      const ids = all.items.map((item: { id: string }) => Number(item.id));
      expect(ids).toEqual([...ids].sort((a, b) => b - a));

      const first = (await call('GET', '/v1/audit?limit=2', admin)).json();
      expect(first.items).toHaveLength(2);
      const second = (await call('GET', `/v1/audit?limit=2&before=${first.nextBefore}`, admin)).json();
      expect(second.items[0].id).toBe(all.items[2].id);

      const published = (await call('GET', '/v1/audit?kind=warning.published', admin)).json().items;
      expect(published).toHaveLength(1);
      expect(published[0]).toMatchObject({
        actor: 'watch-officer',
        organisationId: 'gsoc',
        outcome: 'success',
      });
      const byActor = (await call('GET', '/v1/audit?actor=root-admin', admin)).json().items;
      expect(byActor.map((e: { kind: string }) => e.kind).sort()).toEqual([
        'organisation.added',
        'organisation.disabled',
        'organisation.enabled',
      ]);
      const denied = (
        await call('GET', '/v1/audit?kind=access.denied&organisation=rail-ceptar', admin)
      ).json().items;
      expect(denied.length).toBeGreaterThan(0);
      const future = (await call('GET', '/v1/audit?since=2999-01-01T00:00:00Z', admin)).json();
      expect(future).toEqual({ items: [], nextBefore: null });
      const past = (await call('GET', '/v1/audit?until=2000-01-01T00:00:00Z', admin)).json();
      expect(past.items).toEqual([]);

      expect((await call('GET', '/v1/audit', await token(gsoc, ['analyst']))).statusCode).toBe(403);
      expect((await call('GET', '/v1/audit?kind=coffee', admin)).statusCode).toBe(400);
    });
  });

  it('never writes a token into a log line, even one passed as access_token', async () => {
    const secret = await token(gsoc, ['analyst']);
    const bogus = `${secret.slice(0, -4)}AAAA`;
    logLines.length = 0;
    expect(
      (await http.app.inject({ method: 'GET', url: `/v1/alerts?access_token=${secret}` })).statusCode,
    ).toBe(200);
    expect(
      (await http.app.inject({ method: 'GET', url: `/v1/alerts?access_token=${bogus}` })).statusCode,
    ).toBe(401);
    const text = logLines.join('');
    // Both requests were logged, by path: the query string never is.
    expect(text.match(/"path":"\/v1\/alerts"/g)).toHaveLength(2);
    expect(text).toContain('token refused');
    expect(text).not.toContain(secret.split('.')[2]!);
    expect(text).not.toContain(bogus.split('.')[1]!);
  });
});
