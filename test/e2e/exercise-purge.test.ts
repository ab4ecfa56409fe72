import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDuration, type AfterActionReport } from '@renkei/exercise';
import type { ExerciseRunView, ExerciseScenarioInput } from '@renkei/schema';
import {
  callJson,
  drillScenario,
  eventually,
  startTestHub,
  submitTestReport,
  TEST_ORGANISATIONS,
  type TestActors,
  type TestHub,
} from '@renkei/testing';

/**
 * Everything of a run is stamped with its id, and purged with it: a run at
 * speed 60 through the real pipeline (reports through ingest, the alert the
 * correlator raises, warnings, acknowledgements, triage, a participant's
 * report and a GSOC exercise warning), beside real traffic and another run.
 * Archiving freezes the after-action report; purging removes the run's items
 * alone and writes an audit entry; the report stays readable, as JSON and as
 * the printable page in both languages.
 */
describe('exercise runs: stamped, archived, purged', () => {
  const { gsoc, mlitCsirt, financeCeptar, acmeBank, waterCeptar } = TEST_ORGANISATIONS;
  const ACTORS = {
    analyst: { organisation: gsoc, roles: ['analyst'] },
    finance: { organisation: financeCeptar, roles: ['ceptar'] },
    bank: { organisation: acmeBank, roles: ['reporter'] },
    water: { organisation: waterCeptar, roles: ['ceptar'] },
    mlit: { organisation: mlitCsirt, roles: ['reporter'] },
  } satisfies TestActors;
  type Actor = keyof typeof ACTORS;
  let hub: TestHub<Actor>;

  beforeAll(async () => {
    hub = await startTestHub({
      organisations: [gsoc, mlitCsirt, financeCeptar, acmeBank, waterCeptar],
      actors: ACTORS,
      gatewayEnv: { GATEWAY_EXERCISE_TICK_MS: '100' },
      gatewayAfterIngest: true,
    });
  }, 120_000);

  afterAll(async () => {
    await hub?.close();
  });

  const call = <T = Record<string, unknown>>(
    actor: Actor,
    method: string,
    pathname: string,
    { body, accept }: { body?: unknown; accept?: string } = {},
  ) => callJson<T>(`${hub.gatewayUrl}${pathname}`, { method, token: hub.tokens[actor], body, accept });
  const submit = async (actor: Actor, report: Record<string, unknown>) => {
    const answer = await submitTestReport(hub.ingestUrl, hub.tokens[actor], report);
    expect(answer.status).toBe(202);
    return answer.body.id;
  };
  const rows = async <T>(sql: string, values: unknown[] = []) =>
    (await hub.database.pool.query<T & Record<string, unknown>>(sql, values)).rows;
  const count = async (sql: string, values: unknown[] = []) =>
    Number((await rows<{ n: string }>(sql, values))[0]!.n);
  const stamps = async (runId: string) =>
    (
      await rows<{ kind: string; item_id: string }>(
        `SELECT kind, item_id FROM exercise_run_items WHERE run_id = $1 ORDER BY kind, item_id`,
        [runId],
      )
    ).map((row) => `${row.kind}:${row.item_id}`);
  const alertsHolding = async (reportIds: string[]) =>
    (
      await rows<{ id: string }>(
        `SELECT DISTINCT a.id::text AS id FROM alerts a, jsonb_array_elements(a.record->'contributions') c
          WHERE c->>'reportId' = ANY($1::text[])`,
        [reportIds],
      )
    ).map((row) => row.id);
  const runUntil = async (id: string, state: string) =>
    eventually(
      async () => {
        const view = (await call<ExerciseRunView>('analyst', 'GET', `/v1/exercises/${id}`)).body;
        expect(view.state).toBe(state);
        return view;
      },
      { timeoutMs: 60_000 },
    );

  it('stamps every item of a run, archives it, and purges it alone', async () => {
    // Real traffic: two organisations report one domain, and the correlator raises a real alert.
    const realDomain = `real-${randomBytes(3).toString('hex')}.example`;
    const realReports = [
      await submit('mlit', { title: 'Real phishing', indicators: [{ type: 'domain', value: realDomain }] }),
      await submit('bank', {
        title: 'Real phishing too',
        indicators: [{ type: 'domain', value: realDomain }],
      }),
    ];
    const realAlerts = await eventually(
      async () => {
        const found = await alertsHolding(realReports);
        expect(found).toHaveLength(1);
        return found;
      },
      { timeoutMs: 30_000 },
    );

    // Another run, played to its end first: two report injects (an alert) and a warning finance acknowledges.
    const other = await call<{ id: string }>('analyst', 'POST', '/v1/exercises', {
      body: { scenario: otherScenario(`other-${randomBytes(3).toString('hex')}.example`), speed: 60 },
    });
    expect(other.status).toBe(201);
    await call('analyst', 'POST', `/v1/exercises/${other.body.id}/start`);
    const otherDone = await runUntil(other.body.id, 'completed');
    const otherWarning = otherDone.injects.find((inject) => inject.id === 'warn')!.warningId!;
    expect((await call('finance', 'POST', `/v1/warnings/${otherWarning}/ack`)).status).toBe(200);

    // The run under test.
    const domain = `drill-${randomBytes(3).toString('hex')}.example`;
    const created = await call<{ id: string }>('analyst', 'POST', '/v1/exercises', {
      body: { scenario: scenarioFor(domain), speed: 60 },
    });
    expect(created.status).toBe(201);
    const { id } = created.body;
    expect((await call('analyst', 'POST', `/v1/exercises/${id}/archive`)).status).toBe(409);
    await call('analyst', 'POST', `/v1/exercises/${id}/start`);
    // Until the request to water is out (after the warning): the report back must follow it.
    const warned = await eventually(
      async () => {
        const view = (await call<ExerciseRunView>('analyst', 'GET', `/v1/exercises/${id}`)).body;
        expect(view.injects.find((inject) => inject.id === 'ask')!.sentAt).not.toBeNull();
        return view.injects.find((inject) => inject.id === 'warn')!;
      },
      { timeoutMs: 30_000 },
    );
    for (const actor of ['finance', 'bank', 'water'] as const)
      expect((await call(actor, 'POST', `/v1/warnings/${warned.warningId}/ack`)).status).toBe(200);
    // A participant reports back through ingest with the exercise flag only: the hub stamps it, not the member.
    const reportBack = await submit('water', {
      title: 'We see it too',
      indicators: [{ type: 'domain', value: domain }],
      exercise: true,
    });
    // The GSOC publishes an exercise warning of its own during the run.
    const gsocWarning = await call<{ id: string }>('analyst', 'POST', '/v1/warnings', {
      body: {
        title: 'Exercise: block the domain',
        body: 'Block it',
        severity: 'high',
        tlp: 'GREEN',
        sectors: ['finance'],
        exercise: true,
      },
    });
    expect(gsocWarning.status).toBe(201);
    const alertId = await eventually(
      async () => {
        const view = (await call<ExerciseRunView>('analyst', 'GET', `/v1/exercises/${id}`)).body;
        const alert = view.injects.find((inject) => inject.id === 'second-sighting')!.alertId;
        expect(alert).toBeTruthy();
        return alert!;
      },
      { timeoutMs: 30_000 },
    );
    expect(
      (await call('analyst', 'POST', `/v1/alerts/${alertId}/status`, { body: { status: 'acknowledged' } }))
        .status,
    ).toBe(200);
    const done = await runUntil(id, 'completed');
    expect(done.expectations.map((o) => [o.expectation, o.participant, o.status])).toEqual([
      ['ack', 'acme-bank', 'met'],
      ['ack', 'finance-ceptar', 'met'],
      ['ack', 'water-ceptar', 'met'],
      ['back', 'water-ceptar', 'met'],
      ['tri', 'gsoc', 'met'],
    ]);

    // Every item of the run is stamped with it: what the injects sent, what the pipeline made of it,
    // what participants and the GSOC did.
    const injectReports = done.injects.flatMap((inject) => (inject.reportId ? [inject.reportId] : []));
    const runReports = [...injectReports, reportBack];
    await eventually(
      async () => {
        expect(
          await count(`SELECT count(*) AS n FROM reports WHERE id = ANY($1::uuid[])`, [runReports]),
        ).toBe(3);
        expect((await alertsHolding(runReports)).length).toBeGreaterThanOrEqual(1);
      },
      { timeoutMs: 30_000 },
    );
    const runAlerts = await alertsHolding(runReports);
    const runWarnings = [warned.warningId!, gsocWarning.body.id];
    const triage = (
      await rows<{ id: string }>(
        `SELECT id::text AS id FROM alert_triage_changes WHERE alert_id = ANY($1::uuid[])`,
        [runAlerts],
      )
    ).map((row) => row.id);
    expect(triage.length).toBeGreaterThanOrEqual(1);
    const expected = [
      ...runReports.map((item) => `report:${item}`),
      ...runAlerts.map((item) => `alert:${item}`),
      ...runWarnings.map((item) => `warning:${item}`),
      ...['acme-bank', 'finance-ceptar', 'water-ceptar'].map((org) => `ack:${warned.warningId}/${org}`),
      ...triage.map((item) => `triage:${item}`),
    ].sort();
    expect(await stamps(id)).toEqual(expected);
    // The other run's items are its own, and real items belong to no run.
    const otherReports = otherDone.injects.flatMap((inject) => (inject.reportId ? [inject.reportId] : []));
    const otherAlerts = await alertsHolding(otherReports);
    expect(otherAlerts).toHaveLength(1);
    const otherStamps = await stamps(other.body.id);
    expect(otherStamps).toEqual(
      [
        ...otherReports.map((item) => `report:${item}`),
        `alert:${otherAlerts[0]}`,
        `warning:${otherWarning}`,
        `ack:${otherWarning}/finance-ceptar`,
      ].sort(),
    );
    expect(
      await count(`SELECT count(*) AS n FROM exercise_run_items WHERE item_id = ANY($1::text[])`, [
        [...realReports, ...realAlerts],
      ]),
    ).toBe(0);

    // The after-action report, as JSON and as the printable page in both languages.
    const json = await call<AfterActionReport>('analyst', 'GET', `/v1/exercises/${id}/report`);
    expect(json.body.expectations).toMatchObject({ total: 5, met: 5, late: 0, missed: 0 });
    expect(json.body.comparison.map((run) => run.runId)).toEqual([id]);
    expect(json.body.timeline!.filter((event) => event.kind === 'alerts')).toHaveLength(runAlerts.length);
    const median = formatDuration(json.body.acknowledgement.medianMs);
    const pages = {
      en: await call('analyst', 'GET', `/v1/exercises/${id}/report?lang=en`, { accept: 'text/html' }),
      ja: await call('analyst', 'GET', `/v1/exercises/${id}/report?format=html&lang=ja`),
    };
    for (const page of Object.values(pages)) {
      expect(page.status).toBe(200);
      expect(page.type).toContain('text/html');
      expect(page.text.match(/<svg /g)).toHaveLength(5);
      expect(page.text).toContain(median);
      expect(page.text).toContain('100%');
      expect(page.text).not.toMatch(/<script/i);
    }
    expect(pages.en.text).toContain('Time to acknowledge warnings');
    expect(pages.ja.text).toContain('注意喚起の受領確認までの時間');
    expect((await call('finance', 'GET', `/v1/exercises/${id}/report?format=html`)).status).toBe(403);
    if (process.env.RENKEI_EXERCISE_PAGE_DIR) {
      for (const [language, page] of Object.entries(pages))
        await writeFile(
          path.join(process.env.RENKEI_EXERCISE_PAGE_DIR, `report-${language}.html`),
          page.text,
        );
    }

    // Purging needs an archived run; archiving freezes the report, and archiving again keeps it.
    expect((await call('analyst', 'DELETE', `/v1/exercises/${id}`)).status).toBe(409);
    expect((await call('finance', 'POST', `/v1/exercises/${id}/archive`)).status).toBe(403);
    const archived = await call<{ archivedAt: string }>('analyst', 'POST', `/v1/exercises/${id}/archive`);
    expect(archived.status).toBe(200);
    expect(
      (await call<{ archivedAt: string }>('analyst', 'POST', `/v1/exercises/${id}/archive`)).body,
    ).toEqual(archived.body);
    const frozen = (await call<AfterActionReport>('analyst', 'GET', `/v1/exercises/${id}/report`)).body;
    expect(frozen).toEqual(json.body);
    expect((await call('finance', 'DELETE', `/v1/exercises/${id}`)).status).toBe(403);

    const purged = await call<{ purged: Record<string, number> }>('analyst', 'DELETE', `/v1/exercises/${id}`);
    expect(purged.status).toBe(200);
    expect(purged.body.purged).toEqual({
      reports: 3,
      alerts: runAlerts.length,
      warnings: 2,
      acknowledgements: 3,
      triage: triage.length,
      kept: 0,
    });

    // Gone: every item of the run and what hangs on it.
    const gone: [string, unknown[]][] = [
      [`SELECT count(*) AS n FROM reports WHERE id = ANY($1::uuid[])`, [runReports]],
      [`SELECT count(*) AS n FROM report_submissions WHERE id = ANY($1::uuid[])`, [runReports]],
      [`SELECT count(*) AS n FROM report_indicators WHERE report_id = ANY($1::uuid[])`, [runReports]],
      [`SELECT count(*) AS n FROM sightings WHERE report_id = ANY($1::uuid[])`, [runReports]],
      [`SELECT count(*) AS n FROM alerts WHERE id = ANY($1::uuid[])`, [runAlerts]],
      [`SELECT count(*) AS n FROM alert_versions WHERE alert_id = ANY($1::uuid[])`, [runAlerts]],
      [`SELECT count(*) AS n FROM alert_triage WHERE alert_id = ANY($1::uuid[])`, [runAlerts]],
      [`SELECT count(*) AS n FROM alert_triage_changes WHERE alert_id = ANY($1::uuid[])`, [runAlerts]],
      [`SELECT count(*) AS n FROM warnings WHERE id = ANY($1::uuid[])`, [runWarnings]],
      [`SELECT count(*) AS n FROM warning_acks WHERE warning_id = ANY($1::uuid[])`, [runWarnings]],
      [`SELECT count(*) AS n FROM exercise_run_items WHERE run_id = $1`, [id]],
    ];
    for (const [sql, values] of gone) expect({ sql, n: await count(sql, values) }).toEqual({ sql, n: 0 });
    // Kept: real traffic, and the other run's items with their stamps.
    expect(await count(`SELECT count(*) AS n FROM reports WHERE id = ANY($1::uuid[])`, [realReports])).toBe(
      2,
    );
    expect(await count(`SELECT count(*) AS n FROM alerts WHERE id = ANY($1::uuid[])`, [realAlerts])).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM reports WHERE id = ANY($1::uuid[])`, [otherReports])).toBe(
      2,
    );
    expect(await count(`SELECT count(*) AS n FROM alerts WHERE id = ANY($1::uuid[])`, [otherAlerts])).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM warning_acks WHERE warning_id = $1`, [otherWarning])).toBe(
      1,
    );
    expect(await stamps(other.body.id)).toEqual(otherStamps);
    // The feed is not cut: every event still reads, an alert version's record copied into its event.
    expect(
      await count(
        `SELECT count(*) AS n FROM feed_events f
           LEFT JOIN alert_versions v ON f.payload IS NULL AND v.alert_id = f.alert_id AND v.version = f.alert_version
          WHERE coalesce(f.payload, v.record) IS NULL`,
      ),
    ).toBe(0);
    const [audit] = await rows<{ actor: string; details: Record<string, unknown> }>(
      `SELECT actor, details FROM audit_events WHERE kind = 'exercise.purged' AND object = $1`,
      [id],
    );
    expect(audit).toMatchObject({
      actor: 'analyst-user',
      details: { ...purged.body.purged, scenario: 'e2e-drill' },
    });
    expect(
      await count(`SELECT count(*) AS n FROM audit_events WHERE kind = 'exercise.archived' AND object = $1`, [
        id,
      ]),
    ).toBe(1);

    // The archived report stays readable, in every format.
    expect((await call<AfterActionReport>('analyst', 'GET', `/v1/exercises/${id}/report`)).body).toEqual(
      json.body,
    );
    const after = await call('analyst', 'GET', `/v1/exercises/${id}/report?format=html&lang=ja`);
    expect(after.text).toBe(pages.ja.text);
    expect((await call('analyst', 'GET', `/v1/exercises/${id}`)).status).toBe(200);
    expect((await call('analyst', 'DELETE', `/v1/exercises/${randomUUID()}`)).status).toBe(404);
  }, 240_000);
});

/** The drill with windows wide enough that every expectation is met however slowly the machine runs. */
function scenarioFor(domain: string): ExerciseScenarioInput {
  return drillScenario(domain, { acknowledge: 'PT30M', reportBack: 'PT60M', triage: 'PT60M' });
}

/** Another scenario: an alert from two report injects and a warning to finance, nothing expected. */
function otherScenario(domain: string): ExerciseScenarioInput {
  const base = scenarioFor(domain);
  return {
    ...base,
    id: 'e2e-other',
    participants: [{ sector: 'finance' }],
    injects: [
      base.injects[0]!,
      base.injects[1]!,
      {
        id: 'warn',
        at: 'PT1M',
        kind: 'warning',
        warning: { title: 'Other W', body: 'B', severity: 'low', tlp: 'GREEN', sectors: ['finance'] },
      },
    ],
    expectations: [],
  };
}
