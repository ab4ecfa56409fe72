import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AfterActionReport } from '@renkei/exercise';
import type { ExerciseRunView, ExerciseScenarioInput, ExerciseTaskView, ServerFrame } from '@renkei/schema';
import {
  callJson,
  drillScenario,
  eventually,
  openStream,
  startTestHub,
  submitTestReport,
  TEST_ORGANISATIONS,
  type ServiceProcess,
  type TestActors,
  type TestHub,
} from '@renkei/testing';

/**
 * An exercise played through the real pipeline at speed 60 (a scenario
 * minute is a real second): injects go through ingest, the warning reaches
 * the participants, simulated participants answer on time, late or never,
 * and the after-action report says exactly that. Then the gateway running the
 * schedule is killed mid-run and another one finishes it: every inject sent
 * exactly once.
 */
describe('exercises end to end', () => {
  const { gsoc, mlitCsirt, financeCeptar, acmeBank, waterCeptar } = TEST_ORGANISATIONS;
  const ACTORS = {
    analyst: { organisation: gsoc, roles: ['analyst'] },
    finance: { organisation: financeCeptar, roles: ['ceptar'] },
    bank: { organisation: acmeBank, roles: ['reporter'] },
    water: { organisation: waterCeptar, roles: ['ceptar'] },
  } satisfies TestActors;
  type Actor = keyof typeof ACTORS;
  let hub: TestHub<Actor>;
  let gateway: ServiceProcess;

  beforeAll(async () => {
    hub = await startTestHub({
      organisations: [gsoc, mlitCsirt, financeCeptar, acmeBank, waterCeptar],
      actors: ACTORS,
      gatewayEnv: { GATEWAY_EXERCISE_TICK_MS: '100' },
      gatewayLabel: 'gateway-1',
      gatewayAfterIngest: true,
    });
    gateway = hub.services.at(-1)!;
  }, 120_000);

  afterAll(async () => {
    await hub?.close();
  });

  const call = <T = Record<string, unknown>>(actor: Actor, method: string, path: string, body?: unknown) =>
    callJson<T>(`${gateway.url}${path}`, { method, token: hub.tokens[actor], body });
  const run = (id: string) => call<ExerciseRunView>('analyst', 'GET', `/v1/exercises/${id}`);

  it('refuses a scenario that does not validate, naming each path, before scheduling anything', async () => {
    const { status, body } = await call('analyst', 'POST', '/v1/exercises', {
      scenario: { ...scenarioFor('bad.example'), injects: [{ id: 'x', at: 'soon', kind: 'warning' }] },
    });
    expect(status).toBe(400);
    const fields = (body as { fields: { field: string }[] }).fields.map((f) => f.field);
    expect(fields).toContain('scenario.injects[0].at');
    expect(fields).toContain('scenario.injects[0].warning');
    expect((await call('analyst', 'GET', '/v1/exercises')).body).toEqual({ items: [] });
    const forbidden = await call('finance', 'POST', '/v1/exercises', { scenario: scenarioFor('x.example') });
    expect(forbidden.status).toBe(403);
  });

  it('plays a scenario at speed 60 and scores on time, late, never and a report back exactly', async () => {
    const domain = `drill-${randomBytes(3).toString('hex')}.example`;
    const created = await call<{ id: string; state: string }>('analyst', 'POST', '/v1/exercises', {
      scenario: scenarioFor(domain),
      speed: 60,
    });
    expect(created.status).toBe(201);
    const { id } = created.body;
    const streams = {
      analyst: await openStream(gateway.url!, hub.tokens.analyst),
      water: await openStream(gateway.url!, hub.tokens.water),
      finance: await openStream(gateway.url!, hub.tokens.finance),
    };
    await Promise.all(
      Object.values(streams).map((stream) => stream.next((frame) => frame.type === 'welcome')),
    );
    expect((await call('analyst', 'POST', `/v1/exercises/${id}/start`)).status).toBe(200);
    expect((await call('analyst', 'POST', `/v1/exercises/${id}/start`)).status).toBe(409);

    // The warning inject at 2 minutes: finance acknowledges at once, the bank after 7 minutes (late), water never.
    const warned = await eventually(
      async () => {
        const view = (await run(id)).body;
        const warning = view.injects.find((inject) => inject.id === 'warn')!;
        expect(warning.sentAt).not.toBeNull();
        return warning;
      },
      { timeoutMs: 30_000 },
    );
    expect((await call('finance', 'POST', `/v1/warnings/${warned.warningId}/ack`)).status).toBe(200);
    // Participants see their own tasks only, never the scoring.
    const tasks = await eventually(
      async () => {
        const view = (await call<ExerciseTaskView>('water', 'GET', `/v1/exercises/${id}`)).body;
        expect(view.tasks).toHaveLength(1);
        return view;
      },
      { timeoutMs: 30_000 },
    );
    expect(tasks).not.toHaveProperty('expectations');
    expect(tasks.tasks[0]!.message.en).toContain('Report');
    const water = await submitTestReport(hub.ingestUrl, hub.tokens.water, {
      title: 'We see it too',
      indicators: [{ type: 'domain', value: domain.toUpperCase().replace('.', '[.]') }],
      exercise: true,
    });
    expect(water.status).toBe(202);
    // The alert the injects raised, triaged by the analyst.
    const alertId = await eventually(
      async () => {
        const alert = (await run(id)).body.injects.find((inject) => inject.id === 'second-sighting')!.alertId;
        expect(alert).toBeTruthy();
        return alert!;
      },
      { timeoutMs: 30_000 },
    );
    expect(
      (await call('analyst', 'POST', `/v1/alerts/${alertId}/status`, { status: 'acknowledged' })).status,
    ).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 7_000 - (Date.now() - Date.parse(warned.sentAt!))));
    expect((await call('bank', 'POST', `/v1/warnings/${warned.warningId}/ack`)).status).toBe(200);

    const done = await eventually(
      async () => {
        const view = (await run(id)).body;
        expect(view.state).toBe('completed');
        return view;
      },
      { timeoutMs: 60_000 },
    );
    const outcome = (expectation: string, participant: string) =>
      done.expectations.find((o) => o.expectation === expectation && o.participant === participant)!;
    expect(done.expectations.map((o) => [o.expectation, o.participant, o.status])).toEqual([
      ['ack', 'acme-bank', 'late'],
      ['ack', 'finance-ceptar', 'met'],
      ['ack', 'water-ceptar', 'missed'],
      ['back', 'water-ceptar', 'met'],
      ['tri', 'gsoc', 'met'],
    ]);
    // Scenario time: a real second is a scenario minute.
    expect(outcome('ack', 'acme-bank').takenMs).toBeGreaterThan(6 * 60_000);
    expect(outcome('ack', 'finance-ceptar').takenMs).toBeLessThan(5 * 60_000);

    // The board is pushed live: analysts see the run change to its end; the participant asked gets its task
    // and nothing else of the exercise; a participant without a task gets no exercise frame at all.
    const final = (await streams.analyst.next(
      (frame) =>
        frame.type === 'exercise' &&
        frame.exercise.audience === 'control' &&
        frame.exercise.run.state === 'completed',
      30_000,
    )) as Extract<ServerFrame, { type: 'exercise' }>;
    expect(final.exercise.audience === 'control' && final.exercise.run.expectations).toEqual(
      done.expectations,
    );
    const exerciseFrames = (actor: 'water' | 'finance') =>
      streams[actor].frames.filter((frame) => frame.type === 'exercise');
    expect(exerciseFrames('water')).toEqual([
      expect.objectContaining({
        exercise: { audience: 'participant', task: expect.objectContaining({ runId: id, inject: 'ask' }) },
      }),
    ]);
    expect(exerciseFrames('finance')).toEqual([]);
    await Promise.all(Object.values(streams).map((stream) => stream.close()));

    const report = (await call<AfterActionReport>('analyst', 'GET', `/v1/exercises/${id}/report`)).body;
    expect(report.expectations).toMatchObject({ total: 5, met: 3, late: 1, missed: 1, pending: 0 });
    expect(
      report.acknowledgement.bySector.map((row) => [row.sector, row.expected, row.acknowledged]),
    ).toEqual([
      ['finance', 2, 2],
      ['water', 1, 0],
    ]);
    expect(
      report.acknowledgement.byOrganisation.find((row) => row.organisationId === 'acme-bank')!.medianMs,
    ).toBe(outcome('ack', 'acme-bank').takenMs);
    expect(report.comparison.at(-1)).toMatchObject({ runId: id, expectations: { met: 3, total: 5 } });
    const csv = await call('analyst', 'GET', `/v1/exercises/${id}/report?format=csv`);
    expect(csv.text.trim().split('\r\n')).toHaveLength(6);
    const page = await call('analyst', 'GET', `/v1/exercises/${id}/report?format=html&lang=ja`);
    expect(page.text).toContain('事後評価報告');
    expect((await call('finance', 'GET', `/v1/exercises/${id}/report`)).status).toBe(403);
  }, 150_000);

  it('sends every inject exactly once when the gateway running the schedule is killed mid-run', async () => {
    const domain = `kill-${randomBytes(3).toString('hex')}.example`;
    const injects = Array.from({ length: 8 }, (_, index) =>
      index % 2 === 0
        ? {
            id: `report-${index}`,
            at: `PT${index}M`,
            kind: 'report' as const,
            from: index % 4 === 0 ? 'mlit-csirt' : 'gsoc',
            report: {
              title: `Inject ${index}`,
              category: 'phishing' as const,
              severity: 'medium' as const,
              tlp: 'GREEN' as const,
              indicators: [{ type: 'domain' as const, value: `${index}.${domain}` }],
            },
          }
        : {
            id: `warning-${index}`,
            at: `PT${index}M`,
            kind: 'warning' as const,
            warning: {
              title: `W${index}`,
              body: 'B',
              severity: 'low' as const,
              tlp: 'GREEN' as const,
              sectors: ['finance' as const],
            },
          },
    );
    const created = await call<{ id: string }>('analyst', 'POST', '/v1/exercises', {
      scenario: { ...scenarioFor(domain), id: 'kill-drill', injects, expectations: [] },
      speed: 60,
    });
    expect(created.status).toBe(201);
    const { id } = created.body;
    await call('analyst', 'POST', `/v1/exercises/${id}/start`);
    await eventually(
      async () => {
        const sent = (await run(id)).body.injects.filter((inject) => inject.sentAt !== null);
        expect(sent.length).toBeGreaterThanOrEqual(3);
      },
      { timeoutMs: 30_000 },
    );
    await gateway.kill();
    gateway = await hub.spawnGateway('gateway-2');
    const done = await eventually(
      async () => {
        const view = (await run(id)).body;
        expect(view.state).toBe('completed');
        return view;
      },
      { timeoutMs: 60_000 },
    );
    expect(done.injects.every((inject) => inject.sentAt !== null)).toBe(true);

    const count = async (sql: string, values: unknown[]) =>
      Number((await hub.database.pool.query<{ n: string }>(sql, values)).rows[0]!.n);
    const reportIds = done.injects.flatMap((inject) => (inject.reportId ? [inject.reportId] : []));
    const warningIds = done.injects.flatMap((inject) => (inject.warningId ? [inject.warningId] : []));
    expect(reportIds).toHaveLength(4);
    expect(warningIds).toHaveLength(4);
    await eventually(
      async () => {
        expect(await count(`SELECT count(*) AS n FROM reports WHERE id = ANY($1::uuid[])`, [reportIds])).toBe(
          4,
        );
      },
      { timeoutMs: 30_000 },
    );
    expect(
      await count(`SELECT count(*) AS n FROM reports WHERE title LIKE 'Inject %' AND exercise`, []),
    ).toBe(4);
    expect(await count(`SELECT count(*) AS n FROM warnings WHERE id = ANY($1::uuid[])`, [warningIds])).toBe(
      4,
    );
    expect(
      await count(
        `SELECT count(*) AS n FROM feed_events WHERE kind = 'warning' AND payload->>'id' = ANY($1::text[])`,
        [warningIds],
      ),
    ).toBe(4);
    expect(
      await count(
        `SELECT count(DISTINCT object) AS n FROM audit_events WHERE kind = 'exercise.inject-sent' AND object LIKE $1`,
        [`${id}/%`],
      ),
    ).toBe(8);
    expect(
      await count(
        `SELECT count(*) AS n FROM audit_events WHERE kind = 'exercise.inject-sent' AND object LIKE $1`,
        [`${id}/%`],
      ),
    ).toBe(8);
  }, 150_000);
});

/** The drill with windows the test plays on time, late and never against. */
function scenarioFor(domain: string): ExerciseScenarioInput {
  return drillScenario(domain, { acknowledge: 'PT5M', reportBack: 'PT20M', triage: 'PT15M' });
}
