import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSealer } from '@renkei/auth';
import type { HttpApp } from '@renkei/http';
import { createLogger } from '@renkei/runtime';
import {
  alertDetailSchema,
  alertPageSchema,
  triageUpdateSchema,
  alertSummarySchema,
  bulkTriageResultSchema,
  type AlertRecord,
  type Tlp,
} from '@renkei/schema';
import {
  alertRecordFixture,
  contributionFixture,
  documentedRoutes,
  TEST_ORGANISATIONS,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';
import { reopenIfEscalated } from '../../src/escalation.js';
import { startInProcessGateway, type InProcessGateway } from '../support/in-process.js';

/** The gateway's HTTP side in this process, through its builder, on a real database. */
describe('gateway, built in-process', () => {
  const logger = createLogger('gateway-test', 'silent');
  /** The gateway's cursor sealer: a cursor is a position sealed with it, and nothing else opens. */
  const sealer = createSealer(randomBytes(32));
  const S = (position: number) => sealer.seal(BigInt(position));
  let database: TestDatabase;
  let keys: TestKeys;
  let http: HttpApp;
  let analyst: string;
  let ceptar: string;
  let gateway: InProcessGateway;

  beforeAll(async () => {
    gateway = await startInProcessGateway({
      organisations: Object.values(TEST_ORGANISATIONS),
      logger,
      registryPollMs: 1_000,
      hub: { cursors: sealer },
    });
    ({ database, keys, http } = gateway);
    analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    ceptar = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
  });
  afterAll(async () => {
    await gateway?.close();
  });

  /** Writes an alert as the correlator and the feed sequencer would leave it. */
  async function storeAlert(tlp: Tlp, position: number): Promise<AlertRecord> {
    const id = randomUUID();
    const record = alertRecordFixture({
      id,
      tlp,
      title: `domain ${id}.example reported by 2 organisations in 1 sector`,
      indicators: [{ type: 'domain', value: `${id}.example` }],
      contributions: ['a-csirt', 'b-csirt'].map((organisationId) =>
        contributionFixture({ organisationId, tlp }),
      ),
    });
    await database.pool.query(
      `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, position, record, created_at, updated_at)
       VALUES ($1, $2, 'shared-indicator', 1, false, $3, 'high', $4, $5, now(), now())`,
      [id, `test:${id}`, tlp, position, record],
    );
    const cause = record.contributions[0]!;
    await database.pool.query(
      `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp, detected_at,
                            received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
       VALUES ($1, $2, $3, 'tester', 'report', 'malware', 'high', $4, now(), now(), false, $5, 'test', 0, $6)`,
      [cause.reportId, cause.organisationId, cause.sector, tlp, '0'.repeat(64), position],
    );
    await database.pool.query(
      `INSERT INTO alert_versions (alert_id, version, record, caused_by_report_id, position) VALUES ($1, 1, $2, $3, $4)`,
      [id, record, cause.reportId, position],
    );
    return record;
  }

  const list = (token: string, query = '') =>
    http.app.inject({
      method: 'GET',
      url: `/v1/alerts${query}`,
      headers: { authorization: `Bearer ${token}` },
    });

  it('pages alerts newest first by cursor, shaped for each viewer', async () => {
    const green = await storeAlert('GREEN', 10);
    const amber = await storeAlert('AMBER', 11);
    const clear = await storeAlert('CLEAR', 12);

    const first = alertPageSchema.parse((await list(analyst, '?limit=2')).json());
    expect(first.items.map((item) => [item.id, item.cursor])).toEqual([
      [clear.id, S(12)],
      [amber.id, S(11)],
    ]);
    expect(first.nextBefore).toBe(S(11));
    const second = alertPageSchema.parse((await list(analyst, `?limit=2&before=${first.nextBefore}`)).json());
    expect(second.items.map((item) => item.id)).toEqual([green.id]);
    expect(second.nextBefore).toBeNull();

    const forCeptar = alertPageSchema.parse((await list(ceptar)).json());
    expect(forCeptar.items.map((item) => item.id)).toEqual([clear.id, green.id]);
    expect(JSON.stringify(forCeptar)).not.toContain('a-csirt');
  });

  it('pages forward after a cursor, oldest first, with the bookmark to ask again', async () => {
    const forward = alertPageSchema.parse((await list(analyst, `?after=${S(10)}&limit=1`)).json());
    expect(forward.items.map((item) => item.cursor)).toEqual([S(11)]);
    expect(forward.nextAfter).toBe(S(11));
    expect(forward.nextBefore).toBeNull();
    const rest = alertPageSchema.parse((await list(analyst, `?after=${forward.nextAfter}`)).json());
    expect(rest.items.map((item) => item.cursor)).toEqual([S(12)]);
    const none = alertPageSchema.parse((await list(analyst, `?after=${S(12)}`)).json());
    expect(none).toEqual({ items: [], nextBefore: null, nextAfter: S(12) });

    const both = await list(analyst, `?after=${S(1)}&before=${S(5)}`);
    expect(both.statusCode).toBe(400);
    expect(both.json().fields).toEqual([{ field: 'after', message: expect.stringContaining('before') }]);
  });

  it('moves cursors only over versions the viewer receives, never over hidden ones', async () => {
    // The AMBER alert at 11 is not the sector body's: its page reads on past it, to 12.
    const page = alertPageSchema.parse((await list(ceptar, `?after=${S(10)}&limit=1`)).json());
    expect(page.items.map((item) => item.cursor)).toEqual([S(12)]);
    expect(page.nextAfter).toBe(S(12));

    // Two more it may not see: nothing new for it, and its bookmark stays where it was.
    await storeAlert('AMBER', 13);
    await storeAlert('RED', 14);
    const nothingNew = alertPageSchema.parse((await list(ceptar, `?after=${page.nextAfter}`)).json());
    expect(nothingNew).toEqual({ items: [], nextBefore: null, nextAfter: S(12) });
    // Newest first: the bookmark is its newest alert's, not the hidden 14's.
    const newest = alertPageSchema.parse((await list(ceptar, '?limit=1')).json());
    expect(newest.items.map((item) => item.cursor)).toEqual([S(12)]);
    expect(newest.nextAfter).toBe(S(12));
    expect(newest.nextBefore).toBe(S(12));
    const older = alertPageSchema.parse((await list(ceptar, `?limit=1&before=${newest.nextBefore}`)).json());
    expect(older.items.map((item) => item.cursor)).toEqual([S(10)]);
    // The analyst sees them all.
    const forAnalyst = alertPageSchema.parse((await list(analyst, `?after=${S(12)}`)).json());
    expect(forAnalyst.nextAfter).toBe(S(14));
  });

  it('gives out opaque cursors and refuses any it did not give with 400 naming the field', async () => {
    const page = alertPageSchema.parse((await list(analyst, '?limit=1')).json());
    expect(page.items[0]!.cursor).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // A raw position, a forged token and one sealed with another key are all refused alike.
    const otherHub = createSealer(randomBytes(32)).seal(12n);
    for (const forged of ['12', 'A'.repeat(22), otherHub]) {
      for (const field of ['after', 'before']) {
        const response = await list(analyst, `?${field}=${forged}`);
        expect(response.statusCode).toBe(400);
        expect(response.json().fields.map((f: { field: string }) => f.field)).toEqual([field]);
        expect(response.json().message).not.toMatch(/\d{2}/);
      }
    }
  });

  it('answers a bad query with 400 naming the parameter', async () => {
    const response = await list(analyst, '?limit=0&before=abc');
    expect(response.statusCode).toBe(400);
    expect(
      response
        .json()
        .fields.map((field: { field: string }) => field.field)
        .sort(),
    ).toEqual(['before', 'limit']);
  });

  /** An alert with several versions, each on the feed, from reports of two organisations. */
  async function storeVersionedAlert(tlps: Tlp[], firstPosition: number): Promise<AlertRecord[]> {
    const id = randomUUID();
    const reportIds = tlps.map(() => randomUUID());
    for (const [n, reportId] of reportIds.entries()) {
      await database.pool.query(
        `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp,
                              detected_at, received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
         VALUES ($1, $2, 'finance', 'x', 'r', 'malware', 'high', $3, now(), now(), false, 'h', 't', 0, $4)`,
        [reportId, n % 2 === 0 ? 'a-csirt' : 'b-csirt', tlps[n], n],
      );
    }
    // Version n has the first n + 1 reports; its TLP is the tightest of theirs.
    const versions = tlps.slice(1).map((_, n) => {
      const contributions = reportIds.slice(0, n + 2).map((reportId, k) =>
        contributionFixture({
          reportId,
          organisationId: k % 2 === 0 ? 'a-csirt' : 'b-csirt',
          tlp: tlps[k]!,
          addedInVersion: Math.max(1, k),
        }),
      );
      const order = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];
      const tlp = contributions.map((c) => c.tlp).sort((a, b) => order.indexOf(b) - order.indexOf(a))[0]!;
      return alertRecordFixture({ id, version: n + 1, tlp, contributions });
    });
    const latest = versions.at(-1)!;
    await database.pool.query(
      `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, position, record, created_at, updated_at)
       VALUES ($1, $2, 'shared-indicator', $3, false, $4, 'high', $5, $6, now(), now())`,
      [id, `test:${id}`, latest.version, latest.tlp, firstPosition + versions.length - 1, latest],
    );
    for (const [n, version] of versions.entries()) {
      await database.pool.query(
        `INSERT INTO alert_versions (alert_id, version, position, record, caused_by_report_id)
         VALUES ($1, $2, $3, $4, $5)`,
        [id, version.version, firstPosition + n, version, reportIds[n + 1]],
      );
    }
    return versions;
  }

  const post = (token: string, path: string, body: unknown) =>
    http.app.inject({
      method: 'POST',
      url: `/v1/alerts/${path}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  const detail = (token: string, id: string) =>
    http.app.inject({
      method: 'GET',
      url: `/v1/alerts/${id}`,
      headers: { authorization: `Bearer ${token}` },
    });

  it('triages an alert: stored, audited and on the feed together, in the order made', async () => {
    const [version] = await storeVersionedAlert(['GREEN', 'GREEN'], 20);
    const id = version!.id;
    const other = await keys.token({
      org: 'gsoc',
      sector: 'central-government',
      roles: ['analyst'],
      sub: 'aiko',
    });

    const acknowledged = await post(analyst, `${id}/status`, { status: 'acknowledged', note: '  on it  ' });
    expect(acknowledged.statusCode).toBe(200);
    expect(triageUpdateSchema.parse(acknowledged.json())).toMatchObject({
      alertId: id,
      status: 'acknowledged',
      assignee: null,
      note: 'on it',
      by: 'gsoc-tester',
    });
    expect((await post(other, `${id}/assignee`, { assignee: 'aiko' })).statusCode).toBe(200);
    expect((await post(other, `${id}/notes`, { text: 'C2 answers from two ASNs' })).statusCode).toBe(200);
    expect((await post(analyst, `${id}/status`, { status: 'resolved' })).statusCode).toBe(200);

    const outbox = await database.pool.query<{ kind: string; payload: unknown }>(
      `SELECT kind, payload FROM feed_outbox WHERE payload->>'alertId' = $1 ORDER BY id`,
      [id],
    );
    expect(outbox.rows.map((row) => row.kind)).toEqual([
      'alert-update',
      'alert-update',
      'alert-update',
      'alert-update',
    ]);
    expect(outbox.rows.map((row) => triageUpdateSchema.parse(row.payload))).toEqual([
      expect.objectContaining({ status: 'acknowledged', assignee: null, note: 'on it' }),
      expect.objectContaining({ status: 'acknowledged', assignee: 'aiko', note: null, by: 'aiko' }),
      expect.objectContaining({ status: 'acknowledged', assignee: 'aiko', note: 'C2 answers from two ASNs' }),
      expect.objectContaining({ status: 'resolved', assignee: 'aiko', note: null }),
    ]);
    const audit = await database.pool.query(
      `SELECT actor, organisation_id, object, outcome, details FROM audit_events WHERE kind = 'alert.triaged' AND object = $1 ORDER BY id`,
      [id],
    );
    expect(audit.rows).toEqual([
      {
        actor: 'gsoc-tester',
        organisation_id: 'gsoc',
        object: id,
        outcome: 'success',
        details: { change: 'status', from: 'new', to: 'acknowledged' },
      },
      {
        actor: 'aiko',
        organisation_id: 'gsoc',
        object: id,
        outcome: 'success',
        details: { change: 'assignee', from: null, to: 'aiko' },
      },
      { actor: 'aiko', organisation_id: 'gsoc', object: id, outcome: 'success', details: { change: 'note' } },
      {
        actor: 'gsoc-tester',
        organisation_id: 'gsoc',
        object: id,
        outcome: 'success',
        details: { change: 'status', from: 'acknowledged', to: 'resolved' },
      },
    ]);
  });

  it('triages many alerts in one request, each as if asked alone, naming the ones it could not move', async () => {
    const [one] = await storeVersionedAlert(['GREEN', 'GREEN'], 80);
    const [two] = await storeVersionedAlert(['GREEN', 'GREEN'], 82);
    const missing = randomUUID();
    const answer = await post(analyst, 'triage', {
      alertIds: [one!.id, two!.id, missing],
      change: { kind: 'status', status: 'acknowledged' },
    });
    expect(answer.statusCode).toBe(200);
    const { results } = bulkTriageResultSchema.parse(answer.json());
    expect(results.map((result) => [result.alertId, result.ok])).toEqual([
      [one!.id, true],
      [two!.id, true],
      [missing, false],
    ]);
    expect(results[2]).toMatchObject({ code: 'RENKEI_NOT_FOUND' });
    const again = bulkTriageResultSchema.parse(
      (
        await post(analyst, 'triage', {
          alertIds: [one!.id],
          change: { kind: 'status', status: 'acknowledged' },
        })
      ).json(),
    );
    expect(again.results[0]).toMatchObject({ ok: false, code: 'RENKEI_CONFLICT' });
    const outbox = await database.pool.query(
      `SELECT 1 FROM feed_outbox WHERE kind = 'alert-update' AND payload->>'alertId' = ANY($1::text[])`,
      [[one!.id, two!.id]],
    );
    expect(outbox.rowCount).toBe(2);
    expect(
      (await post(ceptar, 'triage', { alertIds: [two!.id], change: { kind: 'assignee', assignee: 'x' } }))
        .statusCode,
    ).toBe(403);
    const bad = await post(analyst, 'triage', { alertIds: [], change: { kind: 'status', status: 'nope' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('alertIds');
  });

  it('counts open alerts per severity over everything the caller may see, from its own view only', async () => {
    const summary = async (token: string) => {
      // The summary is read at most every half second for everyone: wait out the last read.
      await new Promise((resolve) => setTimeout(resolve, 600));
      const answer = await http.app.inject({
        method: 'GET',
        url: '/v1/alerts/summary',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(answer.statusCode).toBe(200);
      return alertSummarySchema.parse(answer.json());
    };
    const [analystBefore, ceptarBefore] = [await summary(analyst), await summary(ceptar)];
    await storeAlert('GREEN', 90);
    await storeAlert('RED', 91);
    const [analystAfter, ceptarAfter] = [await summary(analyst), await summary(ceptar)];
    expect(analystAfter.total - analystBefore.total).toBe(2);
    expect(analystAfter.open.high - analystBefore.open.high).toBe(2);
    expect(analystAfter.heatMap).not.toBeNull();
    // The RED alert rests on reports the CEPTAR may not know of: only the GREEN one counts for it.
    expect(ceptarAfter.total - ceptarBefore.total).toBe(1);
    expect(ceptarAfter.reportsLastHour).toBeNull();
    expect(ceptarAfter.heatMap).toBeNull();
  });

  it('reopens a resolved alert when a new version escalates it, saying why, once however many gateways try', async () => {
    const [, second] = await storeVersionedAlert(['GREEN', 'GREEN', 'GREEN'], 100);
    const escalated = { ...second!, severity: 'critical' as const };
    await database.pool.query(`UPDATE alert_versions SET record = $3 WHERE alert_id = $1 AND version = $2`, [
      escalated.id,
      escalated.version,
      escalated,
    ]);
    expect(await reopenIfEscalated(database.pool, escalated, logger), 'nothing to reopen yet').toBe(false);
    expect((await post(analyst, `${escalated.id}/status`, { status: 'resolved' })).statusCode).toBe(200);
    const tries = await Promise.all([1, 2, 3].map(() => reopenIfEscalated(database.pool, escalated, logger)));
    expect(tries.filter(Boolean)).toHaveLength(1);
    const shown = alertDetailSchema.parse((await detail(analyst, escalated.id)).json());
    expect(shown.triage.status).toBe('investigating');
    expect(shown.triage.history!.at(-1)).toMatchObject({
      status: 'investigating',
      by: 'renkei',
      note: 'escalated from high to critical',
    });
    // A version at the same severity reopens nothing.
    expect((await post(analyst, `${escalated.id}/status`, { status: 'resolved' })).statusCode).toBe(200);
    expect(await reopenIfEscalated(database.pool, { ...escalated, severity: 'high' }, logger)).toBe(false);
  });

  it('serialises concurrent changes to one alert: each feed event shows the state after all before it', async () => {
    const [version] = await storeVersionedAlert(['GREEN', 'GREEN'], 30);
    const id = version!.id;
    const assignees = Array.from({ length: 8 }, (_, n) => `analyst-${n}`);
    const answers = await Promise.all(
      assignees.map((assignee) => post(analyst, `${id}/assignee`, { assignee })),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual(assignees.map(() => 200));
    const outbox = await database.pool.query<{ payload: { assignee: string } }>(
      `SELECT payload FROM feed_outbox WHERE payload->>'alertId' = $1 ORDER BY id`,
      [id],
    );
    const { rows } = await database.pool.query<{ assignee: string }>(
      'SELECT assignee FROM alert_triage WHERE alert_id = $1',
      [id],
    );
    // The last event in feed order is the state that stayed.
    expect(outbox.rows).toHaveLength(8);
    expect(outbox.rows.at(-1)!.payload.assignee).toBe(rows[0]!.assignee);
    const history = alertDetailSchema.parse((await detail(analyst, id)).json()).triage.history!;
    expect(history.map((change) => change.assignee)).toEqual(outbox.rows.map((row) => row.payload.assignee));
  });

  it('refuses triage it cannot do with a 4xx that names the problem', async () => {
    const [version] = await storeVersionedAlert(['GREEN', 'GREEN'], 40);
    const id = version!.id;
    const reporter = await keys.token({
      org: 'mlit-csirt',
      sector: 'central-government',
      roles: ['reporter'],
    });
    expect((await post(reporter, `${id}/status`, { status: 'acknowledged' })).statusCode).toBe(403);
    expect((await post(analyst, `${randomUUID()}/status`, { status: 'acknowledged' })).statusCode).toBe(404);
    expect((await post(analyst, `not-a-uuid/status`, { status: 'acknowledged' })).json().fields).toEqual([
      { field: 'id', message: expect.any(String) },
    ]);
    const badStatus = await post(analyst, `${id}/status`, { status: 'closed' });
    expect(badStatus.statusCode).toBe(400);
    expect(badStatus.json().fields.map((f: { field: string }) => f.field)).toEqual(['status']);
    expect((await post(analyst, `${id}/notes`, { text: '   ' })).json().fields[0].field).toBe('text');
    expect((await post(analyst, `${id}/assignee`, {})).json().fields[0].field).toBe('assignee');

    expect((await post(analyst, `${id}/status`, { status: 'resolved' })).statusCode).toBe(200);
    const backwards = await post(analyst, `${id}/status`, { status: 'acknowledged' });
    expect(backwards.statusCode).toBe(409);
    expect(backwards.json()).toMatchObject({
      code: 'RENKEI_CONFLICT',
      message: 'an alert cannot move from resolved to acknowledged',
    });
    const outbox = await database.pool.query(`SELECT 1 FROM feed_outbox WHERE payload->>'alertId' = $1`, [
      id,
    ]);
    expect(outbox.rowCount).toBe(1);
  });

  it('shows one alert with its versions and triage: everything to analysts, the status to others', async () => {
    const versions = await storeVersionedAlert(['GREEN', 'CLEAR', 'GREEN'], 50);
    const id = versions[0]!.id;
    await post(analyst, `${id}/status`, { status: 'investigating', note: 'phishing kit' });
    await post(analyst, `${id}/assignee`, { assignee: 'kenji' });

    const forAnalyst = alertDetailSchema.parse((await detail(analyst, id)).json());
    expect(forAnalyst.alert).toMatchObject({ id, version: 2, cursor: S(51) });
    expect(forAnalyst.alert.contributions).toHaveLength(3);
    // The reports behind it, readable: every one for analysts.
    expect(forAnalyst.reports?.map((report) => report.id).sort()).toEqual(
      forAnalyst.alert.reportIds.slice().sort(),
    );
    expect(forAnalyst.reports).toHaveLength(3);
    expect(forAnalyst.versions.map((v) => [v.version, v.cursor])).toEqual([
      [1, S(50)],
      [2, S(51)],
    ]);
    expect(forAnalyst.triage).toMatchObject({ status: 'investigating', assignee: 'kenji' });
    expect(forAnalyst.triage.history!.map((change) => [change.status, change.assignee, change.note])).toEqual(
      [
        ['investigating', null, 'phishing kit'],
        ['investigating', 'kenji', null],
      ],
    );

    const forCeptar = alertDetailSchema.parse((await detail(ceptar, id)).json());
    expect(forCeptar.triage).toEqual({ status: 'investigating' });
    expect(forCeptar.alert.contributions).toBeUndefined();
    expect(forCeptar.reports).toEqual([]);
    // Version 2 only added another report of an organisation already counted: nothing a
    // sector body may know of changed, so for it the alert has one version, at 50.
    expect(forCeptar.alert).toMatchObject({ version: 1, cursor: S(50) });
    expect(forCeptar.versions.map((v) => v.cursor)).toEqual([S(50)]);
    expect(JSON.stringify(forCeptar)).not.toContain('kenji');
    expect(JSON.stringify(forCeptar)).not.toContain('a-csirt');

    const [amber] = await storeVersionedAlert(['AMBER', 'GREEN'], 60);
    expect((await detail(analyst, amber!.id)).statusCode).toBe(200);
    expect((await detail(ceptar, amber!.id)).statusCode).toBe(404);
    expect((await detail(analyst, randomUUID())).statusCode).toBe(404);
  });

  it('needs a token for the alerts, not for health or the documentation', async () => {
    expect((await http.app.inject({ method: 'GET', url: '/v1/alerts' })).statusCode).toBe(401);
    expect((await http.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    expect((await http.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
  });

  it('describes every route it registered in its OpenAPI document', async () => {
    expect(http.routes).toEqual(
      expect.arrayContaining([
        'GET /v1/alerts',
        'GET /v1/alerts/:id',
        'POST /v1/alerts/:id/status',
        'POST /v1/alerts/:id/assignee',
        'POST /v1/alerts/:id/notes',
        'GET /v1/stream',
      ]),
    );
    expect((await documentedRoutes(http.app)).sort()).toEqual([...http.routes].sort());
  });

  it('answers a method the path does not have with 405', async () => {
    const response = await http.app.inject({ method: 'DELETE', url: '/v1/alerts' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
  });
});
