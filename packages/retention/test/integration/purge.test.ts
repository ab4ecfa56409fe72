import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditSigner, sealAuditChain, verifyAuditChain } from '@renkei/audit';
import { runCommand } from '@renkei/cli';
import { createLogger } from '@renkei/runtime';
import { createMigratedTestDatabase, type TestDatabase } from '@renkei/testing';
import { findAlert, listAlertVersions } from '../../../../services/gateway/src/queries/alerts.js';
import { findReports } from '../../../../services/gateway/src/queries/reports.js';
import {
  DAY_MS,
  isExpired,
  readRetentionStatus,
  runPurgePass,
  type Horizon,
  type RetentionSettings,
  type RowFacts,
  type TriageStatus,
} from '../../src/index.js';

const SETTINGS: RetentionSettings = {
  keepMs: {
    reports: 100 * DAY_MS,
    alerts: 200 * DAY_MS,
    exercises: 50 * DAY_MS,
    'feed-events': 7 * DAY_MS,
    audit: 1000 * DAY_MS,
  },
  purgeIntervalMs: 60_000,
  // Small, so every class takes several batches.
  batchSize: 2,
};
const NOW = Date.now();
const ago = (days: number) => new Date(NOW - days * DAY_MS);
const logger = createLogger('retention-test', 'silent');

interface SeededReport {
  id: string;
  exercise: boolean;
  receivedDaysAgo: number;
}
interface SeededAlert {
  id: string;
  exercise: boolean;
  updatedDaysAgo: number;
  triage: { status: TriageStatus; daysAgo: number } | null;
  reports: string[];
  namedByFeed: boolean;
}

/**
 * Rows of every class at chosen ages, written as the services would have
 * left them; then one pass, and what is left must be exactly what the pure
 * rules keep.
 */
describe('a purge pass on a real database', () => {
  let database: TestDatabase;
  const reports: SeededReport[] = [];
  const alerts: SeededAlert[] = [];
  const id = (label: string) => {
    const value = randomUUID();
    names.set(value, label);
    return value;
  };
  const names = new Map<string, string>();
  const label = (ids: Iterable<string>) => [...ids].map((value) => names.get(value) ?? value).sort();

  const q = (sql: string, params: unknown[] = []) => database.pool.query(sql, params);

  async function report(name: string, receivedDaysAgo: number, exercise = false): Promise<string> {
    const reportId = id(name);
    const at = ago(receivedDaysAgo);
    await q(
      `INSERT INTO report_submissions (id, organisation_id, sector, submitted_by, content_sha256, envelope, state,
                                       received_at, accepted_at, confirmed_at)
       VALUES ($1, 'org-a', 'finance', 'alice', 'x', '{}', 'accepted', $2, $2, $2)`,
      [reportId, at],
    );
    await q(
      `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp, detected_at,
                            received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
       VALUES ($1, 'org-a', 'finance', 'alice', $2, 'phishing', 'high', 'GREEN', $3, $3, $4, 'x', 't', 0, 0)`,
      [reportId, name, at, exercise],
    );
    await q(
      `INSERT INTO report_indicators (report_id, position, type, value, normalized_value, canonical_type)
       VALUES ($1, 0, 'domain', $2, $2, 'domain')`,
      [reportId, `${name}.example`],
    );
    await q(
      `INSERT INTO sightings (report_id, type, value, exercise, detected_at, written)
       VALUES ($1, 'domain', $2, $3, $4, true)`,
      [reportId, `${name}.example`, exercise, at],
    );
    await q(
      `INSERT INTO report_tlp_changes (report_id, tlp, organisation_id, changed_by, message, state, received_at)
       VALUES ($1, 'AMBER', 'org-a', 'alice', '{}', 'accepted', $2)`,
      [reportId, at],
    );
    reports.push({ id: reportId, exercise, receivedDaysAgo });
    return reportId;
  }

  async function alert(
    name: string,
    over: Partial<SeededAlert> & Pick<SeededAlert, 'reports' | 'updatedDaysAgo'>,
  ): Promise<string> {
    const seeded: SeededAlert = { id: id(name), exercise: false, triage: null, namedByFeed: false, ...over };
    const at = ago(seeded.updatedDaysAgo);
    const record = {
      id: seeded.id,
      title: name,
      contributions: seeded.reports.map((reportId) => ({ reportId })),
    };
    await q(
      `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, position, record,
                           created_at, updated_at)
       VALUES ($1::uuid, $1::text, 'campaign', 2, $2, 'GREEN', 'high', NULL, $3, $4, $4)`,
      [seeded.id, seeded.exercise, record, at],
    );
    for (const version of [1, 2]) {
      await q(
        `INSERT INTO alert_versions (alert_id, version, record, caused_by_report_id, created_at)
         VALUES ($1, $2, $3, $4, $5)`,
        [seeded.id, version, record, seeded.reports[version - 1] ?? seeded.reports[0], at],
      );
    }
    if (seeded.triage) {
      const changed = ago(seeded.triage.daysAgo);
      await q(
        `INSERT INTO alert_triage (alert_id, status, updated_by, updated_at) VALUES ($1, $2, 'bob', $3)`,
        [seeded.id, seeded.triage.status, changed],
      );
      await q(
        `INSERT INTO alert_triage_changes (alert_id, change, status, changed_by, organisation_id, changed_at)
         VALUES ($1, 'status', $2, 'bob', 'gsoc', $3)`,
        [seeded.id, seeded.triage.status, changed],
      );
    }
    alerts.push(seeded);
    return seeded.id;
  }

  async function warning(name: string, daysAgo: number, exercise: boolean): Promise<string> {
    const warningId = id(name);
    await q(
      `INSERT INTO warnings (id, sectors, exercise, published_by, published_at, record)
       VALUES ($1, NULL, $2, 'gsoc-1', $3, '{}')`,
      [warningId, exercise, ago(daysAgo)],
    );
    await q(
      `INSERT INTO warning_acks (warning_id, organisation_id, acknowledged_by) VALUES ($1, 'org-a', 'alice')`,
      [warningId],
    );
    return warningId;
  }

  async function run(name: string, state: string, createdDaysAgo: number, endedDaysAgo: number | null) {
    const runId = id(name);
    await q(
      `INSERT INTO exercise_runs (id, scenario_id, scenario_version, scenario, participants, speed, state,
                                  created_by, organisation_id, created_at, ended_at)
       VALUES ($1, 's', 1, '{}', '{org-a}', 1, $2, 'gsoc-1', 'gsoc', $3, $4)`,
      [runId, state, ago(createdDaysAgo), endedDaysAgo === null ? null : ago(endedDaysAgo)],
    );
    await q(
      `INSERT INTO exercise_injects (run_id, inject_id, position, kind, offset_ms) VALUES ($1, 'i1', 0, 'warning', 0)`,
      [runId],
    );
    return runId;
  }

  let openAlert: string;
  let openAlertReports: string[];
  let passResult: Awaited<ReturnType<typeof runPurgePass>>;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
    await q(
      `INSERT INTO organisations (id, name, sector, kind) VALUES ('org-a', 'A', 'finance', 'operator')`,
    );

    // Real reports: three free and expired (more than a batch), one recent.
    for (const name of ['old-1', 'old-2', 'old-3']) await report(name, 150);
    await report('recent', 10);
    // An open alert, never triaged, far older than every retention, and its reports.
    openAlertReports = [await report('held-open-1', 900), await report('held-open-2', 150)];
    openAlert = await alert('open', { reports: openAlertReports, updatedDaysAgo: 900 });
    // Acknowledged and investigating are open too.
    await alert('investigating', {
      reports: [await report('held-investigating', 900)],
      updatedDaysAgo: 900,
      triage: { status: 'investigating', daysAgo: 800 },
    });
    // Closed long ago: goes whole, and its reports with it.
    await alert('closed-old', {
      reports: [await report('held-closed-old', 500)],
      updatedDaysAgo: 400,
      triage: { status: 'resolved', daysAgo: 300 },
    });
    await alert('false-positive-old', {
      reports: [await report('held-false-positive', 500)],
      updatedDaysAgo: 400,
      triage: { status: 'false-positive', daysAgo: 250 },
    });
    // Closed recently: kept (the retention counts from the close).
    await alert('closed-recent', {
      reports: [await report('held-closed-recent', 500)],
      updatedDaysAgo: 400,
      triage: { status: 'resolved', daysAgo: 10 },
    });
    // Closed long ago but still named by a feed event: kept.
    const named = await alert('named-by-feed', {
      reports: [await report('held-named', 500)],
      updatedDaysAgo: 400,
      triage: { status: 'resolved', daysAgo: 300 },
      namedByFeed: true,
    });
    // A ledger row whose report never reached the store, old and recent.
    for (const [name, days] of [
      ['orphan-old', 150],
      ['orphan-recent', 10],
    ] as const) {
      await q(
        `INSERT INTO report_submissions (id, organisation_id, sector, submitted_by, content_sha256, envelope, state,
                                         received_at)
         VALUES ($1, 'org-a', 'finance', 'alice', 'x', '{}', 'pending', $2)`,
        [id(name), ago(days)],
      );
    }

    // Exercises: a run ended 60 days ago goes; one ended 10 days ago (created 12) stays.
    await run('run-old', 'completed', 61, 60);
    await run('run-recent', 'completed', 12, 10);
    await run('run-paused', 'paused', 30, null);
    await report('ex-old', 60, true);
    await report('ex-recent', 20, true);
    // An exercise alert nobody closed: goes with its exercise, whole, with its report.
    await alert('ex-alert-old', {
      exercise: true,
      reports: [await report('ex-held', 60, true)],
      updatedDaysAgo: 60,
    });
    await warning('ex-warning-old', 60, true);
    await warning('ex-warning-recent', 10, true);
    await warning('real-warning-old', 900, false);

    // The feed: 1–3 old and published; 4 recent (names an alert); 5 old but unpublished; 6 after it.
    const feed: [number, number, boolean, string | null][] = [
      [1, 10, true, null],
      [2, 9, true, null],
      [3, 8, true, null],
      [4, 1, true, named],
      [5, 9, false, null],
      [6, 9, true, null],
    ];
    for (const [position, days, published, alertId] of feed) {
      await q(
        `INSERT INTO feed_events (position, kind, payload, alert_id, alert_version, sequenced_at, published_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          position,
          alertId ? 'alert' : 'warning',
          alertId ? null : { position },
          alertId,
          alertId ? 2 : null,
          ago(days),
          published ? ago(days) : null,
        ],
      );
    }
    await q(`UPDATE feed_head SET position = 6`);
    // Purged only by a pass given the audit key (the last test), behind a signed checkpoint.
    await q(`INSERT INTO audit_events (at, kind, outcome) VALUES ($1, 'token.refused', 'denied')`, [
      ago(2000),
    ]);

    passResult = await runPurgePass({
      pool: database.pool,
      databaseUrl: database.url,
      settings: SETTINGS,
      logger,
      now: () => NOW,
    });
  });

  afterAll(async () => {
    await database?.drop();
  });

  // The oldest run kept is the paused one, created 30 days ago.
  const horizon: Horizon = { now: NOW, oldestKeptRunCreatedAt: NOW - 30 * DAY_MS };
  const alertFacts = (seeded: SeededAlert): RowFacts => ({
    kind: 'alert',
    exercise: seeded.exercise,
    lastChangeAt: NOW - seeded.updatedDaysAgo * DAY_MS,
    triage: seeded.triage && {
      status: seeded.triage.status,
      changedAt: NOW - seeded.triage.daysAgo * DAY_MS,
    },
    namedByFeed: seeded.namedByFeed,
  });
  const expectedAlerts = () => alerts.filter((seeded) => !isExpired(SETTINGS, horizon, alertFacts(seeded)));
  const expectedReports = () => {
    const held = new Set(expectedAlerts().flatMap((seeded) => seeded.reports));
    return reports.filter(
      (seeded) =>
        !isExpired(SETTINGS, horizon, {
          kind: 'report',
          exercise: seeded.exercise,
          receivedAt: NOW - seeded.receivedDaysAgo * DAY_MS,
          heldByAlert: held.has(seeded.id),
        }),
    );
  };
  const column = async (sql: string) => (await q(sql)).rows.map((row: { id: string }) => row.id);

  it('removes exactly the expired alerts, whole', async () => {
    expect(label(await column(`SELECT id FROM alerts`))).toEqual(label(expectedAlerts().map((a) => a.id)));
    expect(label(await column(`SELECT id FROM alerts`))).toEqual([
      'closed-recent',
      'investigating',
      'named-by-feed',
      'open',
    ]);
    // Nothing of a removed alert is left behind.
    const kept = expectedAlerts().map((a) => a.id);
    for (const table of ['alert_versions', 'alert_triage', 'alert_triage_changes']) {
      const { rows } = await q(
        `SELECT count(*)::int AS n FROM ${table} WHERE NOT (alert_id = ANY($1::uuid[]))`,
        [kept],
      );
      expect(rows[0].n, table).toBe(0);
    }
  });

  it('removes exactly the expired reports, with their indicators, sightings and ledger rows', async () => {
    const kept = expectedReports().map((r) => r.id);
    expect(label(await column(`SELECT id FROM reports`))).toEqual(label(kept));
    expect(label(await column(`SELECT id FROM reports`))).toEqual([
      'ex-recent',
      'held-closed-recent',
      'held-investigating',
      'held-named',
      'held-open-1',
      'held-open-2',
      'recent',
    ]);
    for (const [table, key] of [
      ['report_indicators', 'report_id'],
      ['sightings', 'report_id'],
      ['report_tlp_changes', 'report_id'],
    ]) {
      expect(label(await column(`SELECT DISTINCT ${key} AS id FROM ${table}`)), table).toEqual(label(kept));
    }
    // The ledger keeps the kept reports' rows and the recent row whose report never arrived.
    expect(label(await column(`SELECT id FROM report_submissions`))).toEqual(
      [...label(kept), 'orphan-recent'].sort(),
    );
  });

  it('leaves an open alert whole and readable, its old reports with it', async () => {
    // The gateway's reads (GET /v1/alerts/:id and its history) need the alert on the feed: place it there.
    await q(`UPDATE alerts SET position = 102 WHERE id = $1`, [openAlert]);
    await q(`UPDATE alert_versions SET position = 100 + version WHERE alert_id = $1`, [openAlert]);
    const found = await findAlert(database.pool, openAlert);
    expect(found?.record).toMatchObject({
      id: openAlert,
      contributions: openAlertReports.map((reportId) => ({ reportId })),
    });
    expect((await listAlertVersions(database.pool, openAlert)).map((v) => v.version)).toEqual([1, 2]);
    const readable = await findReports(database.pool, openAlertReports);
    expect(readable.map((r) => r.id).sort()).toEqual([...openAlertReports].sort());
    expect(readable.every((r) => r.indicators.length === 1)).toBe(true);
  });

  it('removes exercise runs from their end, and what the exercise made with them', async () => {
    expect(label(await column(`SELECT id FROM exercise_runs`))).toEqual(['run-paused', 'run-recent']);
    expect(label(await column(`SELECT run_id AS id FROM exercise_injects`))).toEqual([
      'run-paused',
      'run-recent',
    ]);
    expect(label(await column(`SELECT id FROM warnings`))).toEqual(['ex-warning-recent', 'real-warning-old']);
    expect(label(await column(`SELECT warning_id AS id FROM warning_acks`))).toEqual([
      'ex-warning-recent',
      'real-warning-old',
    ]);
  });

  it('removes a prefix of the feed: published, older than the window, before the first unpublished', async () => {
    const { rows } = await q(`SELECT position::int FROM feed_events ORDER BY position`);
    expect(rows.map((row: { position: number }) => row.position)).toEqual([4, 5, 6]);
    // The feed's readers take an alert event's record from alert_versions (packages/feed): still there.
    const { rows: events } = await q(
      `SELECT f.position::int, coalesce(f.payload, v.record) AS payload FROM feed_events f
         LEFT JOIN alert_versions v ON f.payload IS NULL AND v.alert_id = f.alert_id AND v.version = f.alert_version
        ORDER BY f.position`,
    );
    expect(events.map((event: { payload: unknown }) => event.payload)).toEqual([
      expect.objectContaining({ title: 'named-by-feed' }),
      { position: 5 },
      { position: 6 },
    ]);
  });

  it('writes one audit entry per class it removed from, with the count and the time range', async () => {
    const { rows } = await q(
      `SELECT kind, actor, object, outcome, details FROM audit_events WHERE kind = 'retention.purged' ORDER BY object`,
    );
    const day = (days: number) => ago(days).toISOString();
    expect(rows).toEqual([
      {
        kind: 'retention.purged',
        actor: 'system:retention',
        object: 'alerts',
        outcome: 'success',
        details: expect.objectContaining({
          class: 'alerts',
          count: 2,
          from: day(300),
          to: day(250),
          tables: { alerts: 2, alert_versions: 4, alert_triage: 2, alert_triage_changes: 2 },
        }),
      },
      {
        kind: 'retention.purged',
        actor: 'system:retention',
        object: 'exercises',
        outcome: 'success',
        details: expect.objectContaining({ class: 'exercises', count: 5, from: day(60), to: day(60) }),
      },
      {
        kind: 'retention.purged',
        actor: 'system:retention',
        object: 'feed-events',
        outcome: 'success',
        details: expect.objectContaining({ class: 'feed-events', count: 3, from: day(10), to: day(8) }),
      },
      {
        kind: 'retention.purged',
        actor: 'system:retention',
        object: 'reports',
        outcome: 'success',
        // Three free reports, two of closed alerts, one ledger row without a report.
        details: expect.objectContaining({ class: 'reports', count: 6, from: day(500), to: day(150) }),
      },
    ]);
    expect(rows[1].details.tables).toEqual({
      alerts: 1,
      alert_versions: 2,
      alert_triage: 0,
      alert_triage_changes: 0,
      reports: 2,
      report_indicators: 2,
      sightings: 2,
      report_tlp_changes: 2,
      report_submissions: 2,
      warnings: 1,
      warning_acks: 1,
      exercise_runs: 1,
      exercise_injects: 1,
    });
    expect(passResult?.audit).toEqual({ count: 0, wired: false });
  });

  it('finds nothing more to remove on the next pass, and writes no entry', async () => {
    const again = await runPurgePass({
      pool: database.pool,
      databaseUrl: database.url,
      settings: SETTINGS,
      logger,
      now: () => NOW,
    });
    expect(again?.classes.map((outcome) => outcome.count)).toEqual([0, 0, 0, 0]);
    const { rows } = await q(`SELECT count(*)::int AS n FROM audit_events WHERE kind = 'retention.purged'`);
    expect(rows[0].n).toBe(4);
  });

  it('reports its status: nothing due but the audit entry a pass without the audit key may not purge', async () => {
    const status = await readRetentionStatus(database.pool, SETTINGS, NOW);
    expect(Object.fromEntries(status.map((s) => [s.class, s.due]))).toEqual({
      reports: 0,
      alerts: 0,
      exercises: 0,
      'feed-events': 0,
      audit: 1,
    });
    expect(status.find((s) => s.class === 'reports')!.oldest).toBe(ago(900).toISOString());
    expect(status.find((s) => s.class === 'audit')!.lastRun).toBeNull();
    expect(status.find((s) => s.class === 'alerts')!.lastRun).toMatchObject({
      purged: 0,
      keepMs: 200 * DAY_MS,
    });

    const printed = await runCommand(['retention', 'status'], { DATABASE_URL: database.url });
    expect(printed).toMatch(/^class\s+keep\s+oldest\s+due\s+last pass/m);
    expect(printed).toMatch(/^alerts\s+200 days\s+\S+\s+0\s+/m);
    expect(printed).toMatch(/^audit\s+3653 days\s+\S+\s+\d+\s+never/m);
  });

  it('writes the entry a pass cut short left unwritten, once, at the start of the next', async () => {
    // What a batch commits before the pass stops: its rows gone, the run row counting them, no entry yet.
    await q(
      `INSERT INTO retention_runs (class, keep_ms, cutoff, purged, oldest, newest, tables)
       VALUES ('reports', $1, $2, 7, $3, $4, '{"reports": 7}')`,
      [100 * DAY_MS, ago(100), ago(400), ago(120)],
    );
    const pass = () =>
      runPurgePass({
        pool: database.pool,
        databaseUrl: database.url,
        settings: SETTINGS,
        logger,
        now: () => NOW,
      });
    await pass();
    await pass();
    const { rows } = await q(
      `SELECT details FROM audit_events WHERE kind = 'retention.purged' AND (details->>'count')::int = 7`,
    );
    expect(rows).toEqual([
      {
        details: expect.objectContaining({
          class: 'reports',
          count: 7,
          from: ago(400).toISOString(),
          to: ago(120).toISOString(),
        }),
      },
    ]);
    const { rows: unaudited } = await q(
      `SELECT count(*)::int AS n FROM retention_runs WHERE audited_at IS NULL`,
    );
    expect(unaudited[0].n).toBe(0);
  });

  it('skips a pass while another process runs one', async () => {
    const holder = await database.pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock($1)`, [0x5254_4e50]);
      expect(
        await runPurgePass({ pool: database.pool, databaseUrl: database.url, settings: SETTINGS, logger }),
      ).toBeNull();
    } finally {
      await holder.query(`SELECT pg_advisory_unlock($1)`, [0x5254_4e50]);
      holder.release();
    }
  });

  it('purges expired audit entries behind a signed checkpoint, audited, and the chain still verifies', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), alg: 'EdDSA', kid: 'audit-test' };
    const { d: _private, ...publicJwk } = privateJwk;
    await sealAuditChain(database.pool);
    const { rows: before } = await q(`SELECT count(*)::int AS n FROM audit_events WHERE at < $1`, [
      ago(SETTINGS.keepMs.audit / DAY_MS),
    ]);
    expect(before[0].n).toBe(1);

    const passResult = await runPurgePass({
      pool: database.pool,
      databaseUrl: database.url,
      settings: SETTINGS,
      logger,
      now: () => NOW,
      auditSigner: () => createAuditSigner(privateJwk),
    });
    expect(passResult?.audit).toEqual({ count: 1, wired: true });
    const { rows: after } = await q(`SELECT count(*)::int AS n FROM audit_events WHERE at < $1`, [
      ago(SETTINGS.keepMs.audit / DAY_MS),
    ]);
    expect(after[0].n).toBe(0);
    const { rows: entries } = await q(
      `SELECT details FROM audit_events WHERE kind = 'retention.purged' AND details->>'class' = 'audit'`,
    );
    expect(entries).toEqual([
      {
        details: expect.objectContaining({
          class: 'audit',
          count: 1,
          from: expect.any(String),
          to: expect.any(String),
        }),
      },
    ]);
    await sealAuditChain(database.pool);
    const verified = await verifyAuditChain(database.pool, { loadKeys: async () => ({ keys: [publicJwk] }) });
    expect(verified.problem).toBeNull();
    expect(verified.intact).toBe(true);
    expect(verified.checkpoint?.removed).toBe(1);
    const status = await readRetentionStatus(database.pool, SETTINGS, NOW);
    expect(status.find((s) => s.class === 'audit')).toMatchObject({ due: 0, lastRun: { purged: 1 } });
  });
});
