import type { PoolClient, Queryable } from '@renkei/db';

/**
 * The purge's SQL: the conditions of rules.ts for whole batches. Every
 * condition is one fragment used by the purge, by the status's count of
 * rows due and by nothing else, so what is counted is what is removed.
 */

/** A report no alert holds: listed in an alert's record, or the cause of a version. */
const REPORT_FREE = `NOT EXISTS (SELECT 1 FROM alerts a WHERE alert_report_ids(a.record) @> ARRAY[r.id])
  AND NOT EXISTS (SELECT 1 FROM alert_versions v WHERE v.caused_by_report_id = r.id)`;

/** Reports of one kind ($1 exercise) received before $2 that no alert holds. */
export const REPORT_EXPIRED = `r.exercise = $1 AND r.received_at < $2 AND ${REPORT_FREE}`;

/**
 * Alerts of one kind ($1 exercise) whose last change is before $2, that the
 * feed no longer names, and (real alerts) that were closed before $2.
 */
export const ALERT_EXPIRED = `a.exercise = $1 AND a.updated_at < $2
  AND NOT EXISTS (SELECT 1 FROM alert_versions v WHERE v.alert_id = a.id AND v.created_at >= $2)
  AND NOT EXISTS (SELECT 1 FROM feed_events f WHERE f.alert_id = a.id)
  AND NOT EXISTS (SELECT 1 FROM feed_outbox o WHERE o.alert_id = a.id)
  AND ($1 OR EXISTS (SELECT 1 FROM alert_triage t WHERE t.alert_id = a.id
                       AND t.status IN ('resolved', 'false-positive') AND t.updated_at < $2))`;

/** Ended runs ended (or, without an end, created) before $1. */
export const RUN_EXPIRED = `x.state IN ('completed', 'aborted') AND coalesce(x.ended_at, x.created_at) < $1`;

/** An exercise's warnings published before $1. */
export const WARNING_EXPIRED = `w.exercise AND w.published_at < $1`;

/** Ledger rows whose report was never stored (refused, dead-lettered), received before $1. */
export const LEDGER_ORPHAN_EXPIRED = `s.received_at < $1 AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.id = s.id)`;

/** What one batch removed: how many items, and the time range of the items (ISO, as the hub's pools read timestamps). */
export interface BatchResult {
  count: number;
  oldest: string | null;
  newest: string | null;
  /** Rows removed per table (an item may take several: a report its indicators and sightings). */
  tables: Record<string, number>;
}

const EMPTY: BatchResult = { count: 0, oldest: null, newest: null, tables: {} };

function range(times: readonly string[]): Pick<BatchResult, 'oldest' | 'newest'> {
  if (times.length === 0) return { oldest: null, newest: null };
  const ms = times.map((time) => Date.parse(time));
  return { oldest: new Date(Math.min(...ms)).toISOString(), newest: new Date(Math.max(...ms)).toISOString() };
}

async function deleteCount(db: Queryable, sql: string, params: unknown[]): Promise<number> {
  return (await db.query(sql, params)).rowCount ?? 0;
}

/** The creation of the oldest run still kept (see rules.ts `oldestKeptRunCreatedAt`). */
export async function readOldestKeptRun(db: Queryable, runCutoff: Date): Promise<string | null> {
  const { rows } = await db.query<{ at: string | null }>(
    `SELECT min(x.created_at) AS at FROM exercise_runs x WHERE NOT (${RUN_EXPIRED})`,
    [runCutoff],
  );
  return rows[0]?.at ?? null;
}

/** The last feed position the purge may remove (rules.ts `feedPurgeBound`); null: none. */
export async function readFeedPurgeBound(db: Queryable, cutoff: Date): Promise<string | null> {
  const { rows } = await db.query<{ bound: string | null }>(
    `SELECT max(position)::text AS bound FROM feed_events
      WHERE sequenced_at < $1
        AND position < coalesce((SELECT min(position) FROM feed_events WHERE published_at IS NULL),
                                9223372036854775807)`,
    [cutoff],
  );
  return rows[0]?.bound ?? null;
}

/** Removes the oldest feed events up to `bound`, at most `limit`. */
export async function purgeFeedBatch(db: PoolClient, bound: string, limit: number): Promise<BatchResult> {
  const { rows } = await db.query<{ sequenced_at: string }>(
    `DELETE FROM feed_events WHERE position IN (
       SELECT position FROM feed_events WHERE position <= $1 ORDER BY position LIMIT $2)
     RETURNING sequenced_at`,
    [bound, limit],
  );
  return {
    count: rows.length,
    ...range(rows.map((row) => row.sequenced_at)),
    tables: { feed_events: rows.length },
  };
}

/** A page of expired rows by their keyset: what every finder below shares. */
type ExpiredPage = { ids: string[]; after?: { at: string; id: string } };

async function findExpiredPage(
  db: Queryable,
  // Constants of this module only: a table, its alias, its time column and the expiry condition.
  from: { table: string; time: string; expired: string },
  exercise: boolean,
  cutoff: Date,
  limit: number,
  after: { at: string; id: string } | undefined,
): Promise<ExpiredPage> {
  const { rows } = await db.query<{ id: string; at: string }>(
    `SELECT ${from.time} AS at, id FROM ${from.table}
      WHERE ${from.expired}
        AND ($4::timestamptz IS NULL OR (${from.time}, id) > ($4::timestamptz, $5::uuid))
      ORDER BY ${from.time}, id LIMIT $3`,
    [exercise, cutoff, limit, after?.at ?? null, after?.id ?? null],
  );
  const last = rows.at(-1);
  return { ids: rows.map((row) => row.id), ...(last ? { after: { at: last.at, id: last.id } } : {}) };
}

/**
 * The alerts of one batch, oldest first, after the key of the previous one:
 * open alerts are passed over, not read again by every batch.
 */
export function findExpiredAlerts(
  db: Queryable,
  exercise: boolean,
  cutoff: Date,
  limit: number,
  after: { at: string; id: string } | undefined,
): Promise<ExpiredPage> {
  return findExpiredPage(
    db,
    { table: 'alerts a', time: 'a.updated_at', expired: ALERT_EXPIRED },
    exercise,
    cutoff,
    limit,
    after,
  );
}

/**
 * Removes the given alerts whole (their versions and triage with them) if
 * they are still expired once locked: a triage change or a new version that
 * committed since they were found keeps them. Rows are locked before the
 * check is made again, so nothing can reopen them in between; the alert row
 * first, then its triage, the order a triage change takes them in.
 */
export async function purgeAlerts(
  db: PoolClient,
  exercise: boolean,
  cutoff: Date,
  ids: readonly string[],
): Promise<BatchResult> {
  if (ids.length === 0) return EMPTY;
  await db.query(`SELECT 1 FROM alerts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [ids]);
  await db.query(`SELECT 1 FROM alert_triage WHERE alert_id = ANY($1::uuid[]) ORDER BY alert_id FOR UPDATE`, [
    ids,
  ]);
  const { rows } = await db.query<{ id: string; at: string }>(
    `SELECT a.id, greatest(a.updated_at, (SELECT t.updated_at FROM alert_triage t WHERE t.alert_id = a.id)) AS at
       FROM alerts a WHERE a.id = ANY($3::uuid[]) AND ${ALERT_EXPIRED}`,
    [exercise, cutoff, ids],
  );
  if (rows.length === 0) return EMPTY;
  const doomed = rows.map((row) => row.id);
  const tables = {
    alert_triage_changes: await deleteCount(
      db,
      `DELETE FROM alert_triage_changes WHERE alert_id = ANY($1::uuid[])`,
      [doomed],
    ),
    alert_triage: await deleteCount(db, `DELETE FROM alert_triage WHERE alert_id = ANY($1::uuid[])`, [
      doomed,
    ]),
    alert_versions: await deleteCount(db, `DELETE FROM alert_versions WHERE alert_id = ANY($1::uuid[])`, [
      doomed,
    ]),
    alerts: await deleteCount(db, `DELETE FROM alerts WHERE id = ANY($1::uuid[])`, [doomed]),
  };
  return { count: tables.alerts, ...range(rows.map((row) => row.at)), tables };
}

/**
 * The reports of one batch, oldest first, after the key of the previous one:
 * reports an alert holds are passed over, not read again by every batch.
 */
export function findExpiredReports(
  db: Queryable,
  exercise: boolean,
  cutoff: Date,
  limit: number,
  after: { at: string; id: string } | undefined,
): Promise<ExpiredPage> {
  return findExpiredPage(
    db,
    { table: 'reports r', time: 'r.received_at', expired: REPORT_EXPIRED },
    exercise,
    cutoff,
    limit,
    after,
  );
}

/**
 * Removes the given reports with their indicators, sightings and ledger rows
 * if, once locked, no alert holds them. The caller has taken the locks
 * correlation takes for these reports, so no report being correlated can
 * start to hold one of them meanwhile.
 */
export async function purgeReports(
  db: PoolClient,
  exercise: boolean,
  cutoff: Date,
  ids: readonly string[],
): Promise<BatchResult> {
  if (ids.length === 0) return EMPTY;
  const { rows } = await db.query<{ id: string; received_at: string }>(
    `SELECT r.id, r.received_at FROM reports r WHERE r.id = ANY($3::uuid[]) AND ${REPORT_EXPIRED}
      ORDER BY r.id FOR UPDATE`,
    [exercise, cutoff, ids],
  );
  if (rows.length === 0) return EMPTY;
  const doomed = rows.map((row) => row.id);
  const byId = [doomed];
  const tables = {
    report_indicators: await deleteCount(
      db,
      `DELETE FROM report_indicators WHERE report_id = ANY($1::uuid[])`,
      byId,
    ),
    sightings: await deleteCount(db, `DELETE FROM sightings WHERE report_id = ANY($1::uuid[])`, byId),
    report_tlp_changes: await deleteCount(
      db,
      `DELETE FROM report_tlp_changes WHERE report_id = ANY($1::uuid[])`,
      byId,
    ),
    report_submissions: await deleteCount(
      db,
      `DELETE FROM report_submissions WHERE id = ANY($1::uuid[])`,
      byId,
    ),
    reports: await deleteCount(db, `DELETE FROM reports WHERE id = ANY($1::uuid[])`, byId),
  };
  return { count: tables.reports, ...range(rows.map((row) => row.received_at)), tables };
}

/** Ledger rows whose report was never stored, received before the cutoff. */
export async function purgeLedgerOrphans(db: PoolClient, cutoff: Date, limit: number): Promise<BatchResult> {
  const { rows } = await db.query<{ id: string; received_at: string }>(
    `SELECT s.id, s.received_at FROM report_submissions s WHERE ${LEDGER_ORPHAN_EXPIRED}
      ORDER BY s.received_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [cutoff, limit],
  );
  if (rows.length === 0) return EMPTY;
  const ids = [rows.map((row) => row.id)];
  const tables = {
    report_tlp_changes: await deleteCount(
      db,
      `DELETE FROM report_tlp_changes WHERE report_id = ANY($1::uuid[])`,
      ids,
    ),
    report_submissions: await deleteCount(
      db,
      `DELETE FROM report_submissions WHERE id = ANY($1::uuid[])`,
      ids,
    ),
  };
  return { count: tables.report_submissions, ...range(rows.map((row) => row.received_at)), tables };
}

export async function purgeExerciseWarnings(
  db: PoolClient,
  cutoff: Date,
  limit: number,
): Promise<BatchResult> {
  const { rows } = await db.query<{ id: string; published_at: string }>(
    `SELECT w.id, w.published_at FROM warnings w WHERE ${WARNING_EXPIRED}
      ORDER BY w.published_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [cutoff, limit],
  );
  if (rows.length === 0) return EMPTY;
  const ids = [rows.map((row) => row.id)];
  const tables = {
    warning_acks: await deleteCount(db, `DELETE FROM warning_acks WHERE warning_id = ANY($1::uuid[])`, ids),
    warnings: await deleteCount(db, `DELETE FROM warnings WHERE id = ANY($1::uuid[])`, ids),
  };
  return { count: tables.warnings, ...range(rows.map((row) => row.published_at)), tables };
}

export async function purgeExerciseRuns(db: PoolClient, cutoff: Date, limit: number): Promise<BatchResult> {
  const { rows } = await db.query<{ id: string; at: string }>(
    `SELECT x.id, coalesce(x.ended_at, x.created_at) AS at FROM exercise_runs x WHERE ${RUN_EXPIRED}
      ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [cutoff, limit],
  );
  if (rows.length === 0) return EMPTY;
  const ids = [rows.map((row) => row.id)];
  const tables = {
    exercise_injects: await deleteCount(
      db,
      `DELETE FROM exercise_injects WHERE run_id = ANY($1::uuid[])`,
      ids,
    ),
    exercise_runs: await deleteCount(db, `DELETE FROM exercise_runs WHERE id = ANY($1::uuid[])`, ids),
  };
  return { count: tables.exercise_runs, ...range(rows.map((row) => row.at)), tables };
}
