import type { Queryable } from '@renkei/db';
import type { RunClock, RunFacts, RunSummary } from '@renkei/exercise';
import {
  exerciseScenarioSchema,
  type ExerciseScenario,
  type ExerciseState,
  type WarningSectors,
} from '@renkei/schema';

export interface RunRow {
  id: string;
  scenario: ExerciseScenario;
  participants: string[];
  speed: number;
  state: ExerciseState;
  startAt: string | null;
  startedAt: string | null;
  pauses: { from: number; to: number | null }[];
  endedAt: string | null;
  createdBy: string;
  summary: RunSummary | null;
  /** When the after-action report was frozen in the run row (`POST /v1/exercises/:id/archive`). */
  archivedAt: string | null;
  /** When the run's items were purged; the archived report stays. */
  purgedAt: string | null;
}

export interface InjectRow {
  injectId: string;
  position: number;
  kind: 'report' | 'warning' | 'information-request';
  offsetMs: number;
  payload: unknown;
  sentAt: string | null;
  reportId: string | null;
  warningId: string | null;
  recipients: string[] | null;
}

const RUN_COLUMNS = `id, scenario, participants, speed, state,
  start_at AS "startAt", started_at AS "startedAt", pauses, ended_at AS "endedAt",
  created_by AS "createdBy", summary, archived_at AS "archivedAt", purged_at AS "purgedAt"`;

/** A time as the pool gives it (the hub's type parsers keep timestamps as text) in `toISOString` form. */
type Time = Date | string;
const iso = (time: Time | null): string | null => (time === null ? null : new Date(time).toISOString());
const ms = (time: Time): number => new Date(time).getTime();

type RawRun = Omit<RunRow, 'startAt' | 'startedAt' | 'endedAt' | 'scenario' | 'archivedAt' | 'purgedAt'> & {
  scenario: unknown;
  startAt: Time | null;
  startedAt: Time | null;
  endedAt: Time | null;
  archivedAt: Time | null;
  purgedAt: Time | null;
};

function toRun(row: RawRun): RunRow {
  return {
    ...row,
    // Stored after the check: parsing again gives the defaults back their types.
    scenario: exerciseScenarioSchema.parse(row.scenario),
    startAt: iso(row.startAt),
    startedAt: iso(row.startedAt),
    endedAt: iso(row.endedAt),
    archivedAt: iso(row.archivedAt),
    purgedAt: iso(row.purgedAt),
  };
}

export function clockOf(run: Pick<RunRow, 'startedAt' | 'speed' | 'pauses' | 'endedAt'>): RunClock {
  return {
    startedAt: run.startedAt ? Date.parse(run.startedAt) : null,
    speed: run.speed,
    pauses: run.pauses,
    endedAt: run.endedAt ? Date.parse(run.endedAt) : null,
  };
}

export async function insertRun(
  db: Queryable,
  run: {
    id: string;
    scenario: ExerciseScenario;
    participants: string[];
    speed: number;
    startAt: string | null;
    createdBy: string;
    organisationId: string;
  },
  offsets: ReadonlyMap<string, number>,
): Promise<void> {
  await db.query(
    `INSERT INTO exercise_runs (id, scenario_id, scenario_version, scenario, participants, speed, state,
       start_at, created_by, organisation_id)
     VALUES ($1, $2, $3, $4, $5, $6, 'scheduled', $7, $8, $9)`,
    [
      run.id,
      run.scenario.id,
      run.scenario.version,
      run.scenario,
      run.participants,
      run.speed,
      run.startAt,
      run.createdBy,
      run.organisationId,
    ],
  );
  await db.query(
    `INSERT INTO exercise_injects (run_id, inject_id, position, kind, offset_ms)
     SELECT $1, inject_id, position, kind, offset_ms
       FROM unnest($2::text[], $3::int[], $4::text[], $5::bigint[]) AS t(inject_id, position, kind, offset_ms)`,
    [
      run.id,
      run.scenario.injects.map((inject) => inject.id),
      run.scenario.injects.map((_, index) => index),
      run.scenario.injects.map((inject) => inject.kind),
      run.scenario.injects.map((inject) => offsets.get(inject.id)!),
    ],
  );
}

export async function findRun(db: Queryable, id: string, { lock = false } = {}): Promise<RunRow | null> {
  const { rows } = await db.query<RawRun>(
    `SELECT ${RUN_COLUMNS} FROM exercise_runs WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? toRun(rows[0]) : null;
}

export async function listRuns(db: Queryable, limit: number): Promise<RunRow[]> {
  const { rows } = await db.query<RawRun>(
    `SELECT ${RUN_COLUMNS} FROM exercise_runs ORDER BY created_at DESC, id LIMIT $1`,
    [limit],
  );
  return rows.map(toRun);
}

/** Runs whose clock may move an inject or an outcome: scheduled ones due to start, and running ones. */
export async function activeRunIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM exercise_runs
      WHERE state = 'running' OR (state = 'scheduled' AND start_at IS NOT NULL AND start_at <= now())
      ORDER BY created_at`,
  );
  return rows.map((row) => row.id);
}

export async function updateRunState(
  db: Queryable,
  id: string,
  change: {
    state: ExerciseState;
    startedAt?: string;
    pauses?: RunRow['pauses'];
    endedAt?: string;
    summary?: RunSummary;
  },
): Promise<void> {
  await db.query(
    `UPDATE exercise_runs SET state = $2,
       started_at = COALESCE($3, started_at),
       pauses = COALESCE($4, pauses),
       ended_at = COALESCE($5, ended_at),
       summary = COALESCE($6, summary)
     WHERE id = $1`,
    [
      id,
      change.state,
      change.startedAt ?? null,
      change.pauses ? JSON.stringify(change.pauses) : null,
      change.endedAt ?? null,
      change.summary ?? null,
    ],
  );
}

const INJECT_COLUMNS = `inject_id AS "injectId", position, kind, offset_ms::float8 AS "offsetMs", payload,
  sent_at AS "sentAt", report_id AS "reportId", warning_id AS "warningId", recipients`;

type RawInject = Omit<InjectRow, 'sentAt'> & { sentAt: Time | null };
const toInject = (row: RawInject): InjectRow => ({ ...row, sentAt: iso(row.sentAt) });

export async function injectsOf(db: Queryable, runId: string): Promise<InjectRow[]> {
  const { rows } = await db.query<RawInject>(
    `SELECT ${INJECT_COLUMNS} FROM exercise_injects WHERE run_id = $1 ORDER BY offset_ms, position`,
    [runId],
  );
  return rows.map(toInject);
}

/** The next unsent inject due by `elapsedMs`, locked for this transaction; null when none is free. */
export async function claimDueInject(
  db: Queryable,
  runId: string,
  elapsedMs: number,
): Promise<InjectRow | null> {
  const { rows } = await db.query<RawInject>(
    `SELECT ${INJECT_COLUMNS} FROM exercise_injects
      WHERE run_id = $1 AND sent_at IS NULL AND offset_ms <= $2
      ORDER BY offset_ms, position
      LIMIT 1
      FOR UPDATE SKIP LOCKED`,
    [runId, elapsedMs],
  );
  return rows[0] ? toInject(rows[0]) : null;
}

export async function fixInjectPayload(
  db: Queryable,
  runId: string,
  injectId: string,
  payload: unknown,
  reportId: string,
): Promise<void> {
  await db.query(
    `UPDATE exercise_injects SET payload = $3, report_id = $4 WHERE run_id = $1 AND inject_id = $2`,
    [runId, injectId, JSON.stringify(payload), reportId],
  );
}

export async function markInjectSent(
  db: Queryable,
  runId: string,
  injectId: string,
  sent: { at: string; reportId?: string; warningId?: string; recipients?: readonly string[] },
): Promise<void> {
  await db.query(
    `UPDATE exercise_injects SET sent_at = $3, report_id = COALESCE($4, report_id),
       warning_id = $5, recipients = $6
     WHERE run_id = $1 AND inject_id = $2 AND sent_at IS NULL`,
    [runId, injectId, sent.at, sent.reportId ?? null, sent.warningId ?? null, sent.recipients ?? null],
  );
}

/** Earlier finished runs of a scenario, oldest first, with their summaries. */
export async function earlierSummaries(
  db: Queryable,
  scenarioId: string,
  before: string,
): Promise<RunSummary[]> {
  const { rows } = await db.query<{ summary: RunSummary }>(
    `SELECT summary FROM exercise_runs
      WHERE scenario_id = $1 AND summary IS NOT NULL AND id <> $2
      ORDER BY created_at`,
    [scenarioId, before],
  );
  return rows.map((row) => row.summary);
}

/**
 * What a run's participants and the GSOC did, read from what the hub stored
 * between the run's start and its end (or now): everything scoring needs.
 */
export async function runFacts(db: Queryable, run: RunRow, gsoc: string): Promise<RunFacts> {
  const injects = await injectsOf(db, run.id);
  const from = run.startedAt ?? new Date().toISOString();
  const until = run.endedAt ?? new Date().toISOString();
  const reportIds = injects.flatMap((inject) => (inject.reportId && inject.sentAt ? [inject.reportId] : []));
  const warningIds = injects.flatMap((inject) => (inject.warningId ? [inject.warningId] : []));

  const { rows: alerts } = await db.query<{ reportId: string; alertId: string; createdAt: Time }>(
    `SELECT c->>'reportId' AS "reportId", a.id AS "alertId", a.created_at AS "createdAt"
       FROM alerts a, jsonb_array_elements(a.record->'contributions') c
      WHERE a.exercise AND c->>'reportId' = ANY($1::text[])
      ORDER BY a.created_at, a.id`,
    [reportIds],
  );
  const { rows: acks } = await db.query<{ warningId: string; organisationId: string; at: Time }>(
    `SELECT warning_id AS "warningId", organisation_id AS "organisationId", acknowledged_at AS at
       FROM warning_acks WHERE warning_id = ANY($1::uuid[])`,
    [warningIds],
  );
  const { rows: warnings } = await db.query<{ id: string; sectors: string[] | null; at: Time }>(
    `SELECT id, sectors, published_at AS at FROM warnings
      WHERE exercise AND published_at >= $1 AND published_at <= $2 AND NOT (id = ANY($3::uuid[]))`,
    [from, until, warningIds],
  );
  const { rows: reports } = await db.query<{
    organisationId: string;
    at: Time;
    indicators: { type: string; value: string }[] | null;
  }>(
    `SELECT r.organisation_id AS "organisationId", r.received_at AS at,
            (SELECT jsonb_agg(jsonb_build_object('type', i.type, 'value', i.normalized_value))
               FROM report_indicators i WHERE i.report_id = r.id) AS indicators
       FROM reports r
      WHERE r.exercise AND r.received_at >= $1 AND r.received_at <= $2
        AND r.organisation_id = ANY($3::text[]) AND NOT (r.id = ANY($4::uuid[]))`,
    [from, until, run.participants, reportIds],
  );
  const alertIds = [...new Set(alerts.map((row) => row.alertId))];
  const { rows: triage } = await db.query<{ alertId: string; at: Time }>(
    `SELECT alert_id AS "alertId", changed_at AS at FROM alert_triage_changes
      WHERE alert_id = ANY($1::uuid[]) AND changed_at >= $2`,
    [alertIds, from],
  );

  const factsOfInjects: RunFacts['injects'] = Object.fromEntries(
    injects.map((inject) => {
      const raised = alerts.filter((row) => row.reportId === inject.reportId);
      return [
        inject.injectId,
        {
          sentAt: inject.sentAt ? Date.parse(inject.sentAt) : null,
          ...(inject.recipients ? { recipients: inject.recipients } : {}),
          warningId: inject.warningId,
          alertIds: raised.map((row) => row.alertId),
          alertAt: raised[0] ? ms(raised[0].createdAt) : null,
        },
      ];
    }),
  );
  return {
    clock: clockOf(run),
    gsoc,
    participants: run.participants,
    injects: factsOfInjects,
    acknowledgements: acks.map((ack) => ({ ...ack, at: ms(ack.at) })),
    warnings: warnings.map((warning) => ({
      id: warning.id,
      sectors: (warning.sectors ?? 'all') as WarningSectors,
      at: ms(warning.at),
    })),
    reports: reports.map((report) => ({
      organisationId: report.organisationId,
      indicators: report.indicators ?? [],
      at: ms(report.at),
    })),
    triage: triage.map((action) => ({ alertId: action.alertId, at: ms(action.at) })),
  };
}

/** What a run stamps its items as (`exercise_run_items`, migration 0018). */
export type RunItemKind = 'report' | 'alert' | 'warning' | 'ack' | 'triage';

/** Stamps items with a run; stamping twice changes nothing. */
export async function stampRunItems(
  db: Queryable,
  runId: string,
  kind: RunItemKind,
  itemIds: readonly string[],
): Promise<void> {
  await db.query(
    `INSERT INTO exercise_run_items (run_id, kind, item_id)
     SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`,
    [runId, kind, itemIds],
  );
}

/** How many items of each kind carry the run's stamp. */
export async function countRunItems(db: Queryable, runId: string): Promise<Record<RunItemKind, number>> {
  const { rows } = await db.query<{ kind: RunItemKind; n: string }>(
    `SELECT kind, count(*) AS n FROM exercise_run_items WHERE run_id = $1 GROUP BY kind`,
    [runId],
  );
  const counts: Record<RunItemKind, number> = { report: 0, alert: 0, warning: 0, ack: 0, triage: 0 };
  for (const row of rows) counts[row.kind] = Number(row.n);
  return counts;
}

/** The after-action report frozen when the run was archived, or null. */
export async function archivedReportOf(db: Queryable, runId: string): Promise<unknown> {
  const { rows } = await db.query<{ report: unknown }>(
    `SELECT archived_report AS report FROM exercise_runs WHERE id = $1`,
    [runId],
  );
  return rows[0]?.report ?? null;
}

export async function markArchived(db: Queryable, runId: string, report: unknown): Promise<string> {
  const { rows } = await db.query<{ at: Time }>(
    `UPDATE exercise_runs SET archived_at = now(), archived_report = $2 WHERE id = $1 RETURNING archived_at AS at`,
    [runId, JSON.stringify(report)],
  );
  return iso(rows[0]!.at)!;
}

/** When each alert stamped with the run was first raised (ms). */
export async function runAlertTimes(db: Queryable, runId: string): Promise<number[]> {
  const { rows } = await db.query<{ at: Time }>(
    `SELECT a.created_at AS at FROM exercise_run_items i JOIN alerts a ON a.id = i.item_id::uuid
      WHERE i.run_id = $1 AND i.kind = 'alert' ORDER BY a.created_at`,
    [runId],
  );
  return rows.map((row) => ms(row.at));
}
