import { recordAudit } from '@renkei/audit';
import { withTransaction, type Pool, type Queryable } from '@renkei/db';
import type { AfterActionReport } from '@renkei/exercise';
import type { OrganisationRegistry } from '@renkei/registry';
import { RenkeiError } from '@renkei/runtime';
import { findRun, markArchived, type RunItemKind } from '../queries/exercises.js';
import { buildReport } from './scheduler.js';

/** What a purge removed, per kind, and what it had to keep. */
export interface PurgeCounts {
  reports: number;
  alerts: number;
  warnings: number;
  acknowledgements: number;
  triage: number;
  /**
   * Items of the run left in place: held by another run not yet purged (a
   * report of a participant of two runs played at once, an alert joining
   * reports of two runs), or a report that caused a version of such an alert.
   */
  kept: number;
}

/** Who a purge or an archive is recorded as in the audit log. */
export interface ExerciseActor {
  actor: string;
  organisationId: string | null;
}

const RETENTION: ExerciseActor = { actor: 'retention', organisationId: null };

/**
 * Freezes a run's after-action report in its row: from then on
 * `GET /v1/exercises/:id/report` answers from it, whatever is purged. Only an
 * ended run (completed or aborted) is archived; archiving again keeps the first.
 */
export async function archiveExerciseRun(
  pool: Pool,
  runId: string,
  registry: OrganisationRegistry,
  by: ExerciseActor = RETENTION,
): Promise<{ archivedAt: string; report: AfterActionReport }> {
  return withTransaction(pool, async (db) => {
    const run = await findRun(db, runId, { lock: true });
    if (!run) throw new RenkeiError('RENKEI_NOT_FOUND', `no exercise run ${runId}`);
    if (run.state !== 'completed' && run.state !== 'aborted')
      throw new RenkeiError('RENKEI_CONFLICT', `a ${run.state} run cannot be archived: it has not ended`);
    if (run.archivedAt) {
      const { rows } = await db.query<{ report: AfterActionReport }>(
        `SELECT archived_report AS report FROM exercise_runs WHERE id = $1`,
        [runId],
      );
      return { archivedAt: run.archivedAt, report: rows[0]!.report };
    }
    const report = await buildReport(db, run, registry);
    const archivedAt = await markArchived(db, runId, report);
    await recordAudit(db, {
      kind: 'exercise.archived',
      actor: by.actor,
      organisationId: by.organisationId,
      object: runId,
      outcome: 'success',
      details: { scenario: run.scenario.id, version: run.scenario.version, state: run.state },
    });
    return { archivedAt, report };
  });
}

/** The order kinds go in: what refers to an item goes before it (triage → alert, ack → warning, alert → report). */
const ORDER: readonly RunItemKind[] = ['triage', 'ack', 'alert', 'warning', 'report'];
const COUNTED: Record<RunItemKind, keyof Omit<PurgeCounts, 'kept'>> = {
  triage: 'triage',
  ack: 'acknowledgements',
  alert: 'alerts',
  warning: 'warnings',
  report: 'reports',
};

/**
 * Removes every item stamped with an archived, ended run: triage changes,
 * acknowledgements, alerts (with their versions and triage), warnings, and
 * reports (with their indicators, sightings and ingest's ledger rows), in
 * batches of `batchSize`, each its own short transaction, so a purge never
 * holds locks long and a purge cut short goes on where it stopped when asked
 * again. Foreign keys hold at every commit: what refers to an item goes before
 * it. Another run's items (not yet purged itself) and real data are never
 * touched: only items stamped with this run alone are removed. The feed is
 * not cut (a hole in the middle would read as a gap): an alert version still
 * in it keeps its record in the feed event, and ages out with the feed's
 * retention. Writes an `exercise.purged` audit entry with the counts.
 *
 * Exported for the retention worker, which purges expired runs with it.
 */
export async function purgeExerciseRun(
  pool: Pool,
  runId: string,
  { batchSize = 500, by = RETENTION }: { batchSize?: number; by?: ExerciseActor } = {},
): Promise<PurgeCounts> {
  const run = await findRun(pool, runId);
  if (!run) throw new RenkeiError('RENKEI_NOT_FOUND', `no exercise run ${runId}`);
  if (run.state !== 'completed' && run.state !== 'aborted')
    throw new RenkeiError('RENKEI_CONFLICT', `a ${run.state} run cannot be purged: it has not ended`);
  if (!run.archivedAt)
    throw new RenkeiError(
      'RENKEI_CONFLICT',
      `run ${runId} is not archived: archive its report first (POST /v1/exercises/${runId}/archive)`,
    );

  const counts: PurgeCounts = { reports: 0, alerts: 0, warnings: 0, acknowledgements: 0, triage: 0, kept: 0 };
  for (const kind of ORDER) {
    let after = '';
    for (;;) {
      const batch = await withTransaction(pool, async (db) => {
        const ids = await exclusiveItems(db, runId, kind, after, batchSize);
        if (ids.length === 0) return null;
        const removed = await remove(db, runId, kind, ids);
        // Every stamp of a removed item: the other runs that held it are purged already.
        await db.query(`DELETE FROM exercise_run_items WHERE kind = $1 AND item_id = ANY($2::text[])`, [
          kind,
          removed,
        ]);
        return { last: ids.at(-1)!, selected: ids.length, removed: removed.length };
      });
      if (!batch) break;
      counts[COUNTED[kind]] += batch.removed;
      counts.kept += batch.selected - batch.removed;
      after = batch.last;
    }
  }
  // Held by another run: left to that run, still stamped with this one too.
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM exercise_run_items i
      WHERE run_id = $1 AND EXISTS (${heldElsewhere})`,
    [runId],
  );
  counts.kept += Number(rows[0]!.n);

  await withTransaction(pool, async (db) => {
    await db.query(`UPDATE exercise_runs SET purged_at = now() WHERE id = $1`, [runId]);
    await recordAudit(db, {
      kind: 'exercise.purged',
      actor: by.actor,
      organisationId: by.organisationId,
      object: runId,
      outcome: 'success',
      details: { scenario: run.scenario.id, version: run.scenario.version, ...counts },
    });
  });
  return counts;
}

/** Another run that is not purged holds the same item: it is that run's too. */
const heldElsewhere = `SELECT 1 FROM exercise_run_items o JOIN exercise_runs r ON r.id = o.run_id
   WHERE o.kind = i.kind AND o.item_id = i.item_id AND o.run_id <> i.run_id AND r.purged_at IS NULL`;

/** The next items of one kind stamped with this run only, in id order after `after`. */
async function exclusiveItems(
  db: Queryable,
  runId: string,
  kind: RunItemKind,
  after: string,
  limit: number,
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT item_id AS id FROM exercise_run_items i
      WHERE run_id = $1 AND kind = $2 AND item_id > $3 AND NOT EXISTS (${heldElsewhere})
      ORDER BY item_id LIMIT $4`,
    [runId, kind, after, limit],
  );
  return rows.map((row) => row.id);
}

/** Deletes one batch of one kind with what refers to it; returns the ids removed (or already gone). */
async function remove(db: Queryable, runId: string, kind: RunItemKind, ids: string[]): Promise<string[]> {
  switch (kind) {
    case 'triage':
      await db.query(`DELETE FROM alert_triage_changes WHERE id = ANY($1::bigint[])`, [ids]);
      return ids;
    case 'ack': {
      const pairs = ids.map((id) => {
        const slash = id.indexOf('/');
        return [id.slice(0, slash), id.slice(slash + 1)] as const;
      });
      await db.query(
        `DELETE FROM warning_acks k USING unnest($1::uuid[], $2::text[]) AS t(warning_id, organisation_id)
          WHERE k.warning_id = t.warning_id AND k.organisation_id = t.organisation_id`,
        [pairs.map(([warning]) => warning), pairs.map(([, organisation]) => organisation)],
      );
      return ids;
    }
    case 'alert':
      // The feed names an alert version's record rather than copying it: copy it into the events
      // still in the feed (and the outbox), so readers of the feed find it until retention prunes them.
      await db.query(
        `UPDATE feed_events f SET payload = v.record FROM alert_versions v
          WHERE v.alert_id = ANY($1::uuid[]) AND f.position = v.position AND f.payload IS NULL`,
        [ids],
      );
      await db.query(
        `UPDATE feed_outbox o SET payload = v.record FROM alert_versions v
          WHERE o.alert_id = ANY($1::uuid[]) AND v.alert_id = o.alert_id AND v.version = o.alert_version
            AND o.payload IS NULL`,
        [ids],
      );
      for (const table of ['alert_triage_changes', 'alert_triage', 'alert_versions'])
        await db.query(`DELETE FROM ${table} WHERE alert_id = ANY($1::uuid[])`, [ids]);
      await db.query(`DELETE FROM alerts WHERE id = ANY($1::uuid[])`, [ids]);
      return ids;
    case 'warning':
      await db.query(`DELETE FROM warning_acks WHERE warning_id = ANY($1::uuid[])`, [ids]);
      await db.query(`DELETE FROM warnings WHERE id = ANY($1::uuid[])`, [ids]);
      return ids;
    case 'report': {
      // A report that caused a version of an alert another run keeps stays with that alert. The
      // alerts of this run alone are gone by now (alerts go first), so the alerts its reports may
      // still be in are those still stamped with it: read through them, not all of alert_versions.
      const { rows } = await db.query<{ id: string }>(
        `SELECT id::text AS id FROM unnest($2::uuid[]) AS t(id)
          WHERE NOT EXISTS (
            SELECT 1 FROM exercise_run_items i JOIN alert_versions v ON v.alert_id = i.item_id::uuid
             WHERE i.run_id = $1 AND i.kind = 'alert' AND v.caused_by_report_id = t.id)`,
        [runId, ids],
      );
      const removable = rows.map((row) => row.id);
      for (const table of ['sightings', 'report_indicators'])
        await db.query(`DELETE FROM ${table} WHERE report_id = ANY($1::uuid[])`, [removable]);
      await db.query(`DELETE FROM reports WHERE id = ANY($1::uuid[])`, [removable]);
      await db.query(`DELETE FROM report_tlp_changes WHERE report_id = ANY($1::uuid[])`, [removable]);
      await db.query(`DELETE FROM report_submissions WHERE id = ANY($1::uuid[])`, [removable]);
      return removable;
    }
  }
}
