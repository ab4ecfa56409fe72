import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCENARIO_TEMPLATES_DIR } from '@renkei/exercise';
import {
  createMigratedTestDatabase,
  registerOrganisations,
  TEST_ORGANISATIONS,
  type TestDatabase,
} from '@renkei/testing';
import { purgeExerciseRun } from '../../src/exercises/purge.js';

/**
 * The stamping triggers and the purge on PostgreSQL alone, with the cases a
 * played run rarely makes: two runs on at once sharing a participant's report
 * and the alert it is in, batches of one, a purge asked again.
 */
describe('exercise run items: stamped by the triggers, purged per run', () => {
  let database: TestDatabase;
  const { gsoc, acmeBank } = TEST_ORGANISATIONS;
  const A = randomUUID();
  const B = randomUUID();
  const T = (hhmm: string) => `2026-12-01T${hhmm}:00.000Z`;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
    await registerOrganisations(database, [gsoc, acmeBank]);
    const scenario = await readFile(new URL('cross-sector-ddos.json', SCENARIO_TEMPLATES_DIR), 'utf8');
    // A from 10:00 to 11:00, B from 10:30 to 11:30: both take acme-bank.
    for (const [id, from, to] of [
      [A, '10:00', '11:00'],
      [B, '10:30', '11:30'],
    ] as const) {
      await database.pool.query(
        `INSERT INTO exercise_runs (id, scenario_id, scenario_version, scenario, participants, speed, state,
           started_at, ended_at, created_by, organisation_id)
         VALUES ($1, 'ddos', 1, $2, $3, 60, 'completed', $4, $5, 'sato', 'gsoc')`,
        [id, scenario, [acmeBank.id], T(from), T(to)],
      );
    }
  }, 60_000);

  afterAll(async () => {
    await database?.drop();
  });

  const q = (sql: string, values: unknown[] = []) => database.pool.query(sql, values);
  const report = async (exercise: boolean, receivedAt: string) => {
    const id = randomUUID();
    await q(
      `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp, detected_at,
         received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
       VALUES ($1, 'acme-bank', 'finance', 'ito', 'T', 'phishing', 'low', 'GREEN', $2, $2, $3, 'x', 't', 0, 0)`,
      [id, receivedAt, exercise],
    );
    await q(
      `INSERT INTO report_indicators (report_id, position, type, value, normalized_value) VALUES ($1, 0, 'domain', 'a.example', 'a.example')`,
      [id],
    );
    return id;
  };
  let position = 0;
  const alert = async (exercise: boolean, reportId: string) => {
    const id = randomUUID();
    const record = { id, contributions: [{ reportId }] };
    position += 1;
    await q(
      `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, position, record, created_at, updated_at)
       VALUES ($1, $5, 'shared-indicator', 1, $2, 'GREEN', 'low', $3, $4, now(), now())`,
      [id, exercise, position, record, `key:${id}`],
    );
    await q(
      `INSERT INTO alert_versions (alert_id, version, record, caused_by_report_id, position) VALUES ($1, 1, $2, $3, $4)`,
      [id, record, reportId, position],
    );
    // The feed names the version's record rather than copying it.
    await q(
      `INSERT INTO feed_events (position, kind, payload, alert_id, alert_version) VALUES ($1, 'alert', NULL, $2, 1)`,
      [position, id],
    );
    return id;
  };
  const stamps = async (runId: string) =>
    (
      await q(`SELECT kind || ':' || item_id AS s FROM exercise_run_items WHERE run_id = $1 ORDER BY 1`, [
        runId,
      ])
    ).rows.map((row: { s: string }) => row.s);
  const exists = async (table: string, id: string) =>
    (await q(`SELECT 1 FROM ${table} WHERE id = $1`, [id])).rowCount === 1;

  it('stamps by the run windows, keeps what another run holds, and leaves it to that run', async () => {
    const onlyA = await report(true, T('10:15'));
    const both = await report(true, T('10:45'));
    const real = await report(false, T('10:15'));
    const outside = await report(true, T('09:00'));
    const alertA = await alert(true, onlyA);
    const alertBoth = await alert(true, both);
    const realAlert = await alert(false, real);
    const warning = randomUUID();
    await q(
      `INSERT INTO warnings (id, sectors, exercise, published_by, published_at, record)
       VALUES ($1, '{finance}', true, 'sato', $2, '{}')`,
      [warning, T('10:20')],
    );
    await q(
      `INSERT INTO warning_acks (warning_id, organisation_id, acknowledged_by) VALUES ($1, 'acme-bank', 'ito')`,
      [warning],
    );
    const triage = (
      await q(
        `INSERT INTO alert_triage_changes (alert_id, change, status, changed_by, organisation_id, changed_at)
         VALUES ($1, 'status', 'acknowledged', 'sato', 'gsoc', now()) RETURNING id::text`,
        [alertA],
      )
    ).rows[0].id as string;
    await q(`INSERT INTO alert_triage (alert_id, status, updated_by) VALUES ($1, 'acknowledged', 'sato')`, [
      alertA,
    ]);

    expect(await stamps(A)).toEqual(
      [
        `ack:${warning}/acme-bank`,
        `alert:${alertA}`,
        `alert:${alertBoth}`,
        `report:${both}`,
        `report:${onlyA}`,
        `triage:${triage}`,
        `warning:${warning}`,
      ].sort(),
    );
    expect(await stamps(B)).toEqual([`alert:${alertBoth}`, `report:${both}`].sort());

    // Not archived: refused.
    await expect(purgeExerciseRun(database.pool, A)).rejects.toThrow('not archived');
    await q(
      `UPDATE exercise_runs SET archived_at = now(), archived_report = '{}' WHERE id = ANY($1::uuid[])`,
      [[A, B]],
    );

    expect(await purgeExerciseRun(database.pool, A, { batchSize: 1 })).toEqual({
      reports: 1,
      alerts: 1,
      warnings: 1,
      acknowledgements: 1,
      triage: 1,
      kept: 2,
    });
    expect(await exists('reports', onlyA)).toBe(false);
    expect(await exists('alerts', alertA)).toBe(false);
    expect(await exists('warnings', warning)).toBe(false);
    for (const [id, table] of [
      [both, 'reports'],
      [alertBoth, 'alerts'],
      [real, 'reports'],
      [realAlert, 'alerts'],
      [outside, 'reports'],
    ] as const)
      expect({ id, kept: await exists(table, id) }).toEqual({ id, kept: true });
    // The purged alert's feed event still reads: its record was copied in.
    expect(
      (await q(`SELECT payload->>'id' AS id FROM feed_events WHERE alert_id = $1`, [alertA])).rows[0],
    ).toEqual({ id: alertA });
    // A keeps its stamps of what B holds; B purged, they go, with their items.
    expect(await stamps(A)).toEqual([`alert:${alertBoth}`, `report:${both}`].sort());
    expect(await purgeExerciseRun(database.pool, B)).toMatchObject({ reports: 1, alerts: 1, kept: 0 });
    expect(await exists('reports', both)).toBe(false);
    expect(await exists('alerts', alertBoth)).toBe(false);
    expect(await stamps(A)).toEqual([]);
    // Asked again, nothing is left to remove; the real report and alert are still there.
    expect(await purgeExerciseRun(database.pool, A)).toEqual({
      reports: 0,
      alerts: 0,
      warnings: 0,
      acknowledgements: 0,
      triage: 0,
      kept: 0,
    });
    expect(await exists('reports', real)).toBe(true);
    expect(await exists('alerts', realAlert)).toBe(true);
    const audits = await q(
      `SELECT details FROM audit_events WHERE kind = 'exercise.purged' AND object = $1 ORDER BY id`,
      [A],
    );
    expect(audits.rows.map((row: { details: { kept: number } }) => row.details.kept)).toEqual([2, 0]);
  });
});
