import type { Queryable } from '@renkei/db';
import {
  ALERT_EXPIRED,
  LEDGER_ORPHAN_EXPIRED,
  readFeedPurgeBound,
  readOldestKeptRun,
  REPORT_EXPIRED,
  RUN_EXPIRED,
  WARNING_EXPIRED,
} from './queries.js';
import { cutoffsAt } from './rules.js';
import { RETENTION_CLASSES, type RetentionClass, type RetentionSettings } from './settings.js';

/** Times are ISO strings, as the hub's pools read timestamps. */
export interface LastRun {
  startedAt: string;
  finishedAt: string | null;
  purged: number;
  keepMs: number;
}

export interface ClassStatus {
  class: RetentionClass;
  keepMs: number;
  oldest: string | null;
  /** Rows the next pass would remove (items: reports, alerts, runs, warnings, events, entries). */
  due: number;
  lastRun: LastRun | null;
}

/** The oldest row of each class (by the time its retention counts from). */
export async function readOldest(db: Queryable): Promise<Record<RetentionClass, string | null>> {
  const { rows } = await db.query<Record<RetentionClass, string | null>>(
    `SELECT (SELECT min(received_at) FROM reports WHERE NOT exercise) AS reports,
            (SELECT min(updated_at) FROM alerts WHERE NOT exercise) AS alerts,
            least((SELECT min(created_at) FROM exercise_runs),
                  (SELECT min(received_at) FROM reports WHERE exercise),
                  (SELECT min(updated_at) FROM alerts WHERE exercise),
                  (SELECT min(published_at) FROM warnings WHERE exercise)) AS exercises,
            (SELECT min(sequenced_at) FROM feed_events) AS "feed-events",
            (SELECT min(at) FROM audit_events) AS audit`,
  );
  return rows[0]!;
}

/** The latest pass of each class, with the setting it ran with. */
export async function readLastRuns(db: Queryable): Promise<Partial<Record<RetentionClass, LastRun>>> {
  const { rows } = await db.query<{
    class: RetentionClass;
    started_at: string;
    finished_at: string | null;
    purged: string;
    keep_ms: string;
  }>(
    `SELECT DISTINCT ON (class) class, started_at, finished_at, purged, keep_ms
       FROM retention_runs ORDER BY class, id DESC`,
  );
  // The audit class keeps no run rows: its purges are the chain's signed checkpoints.
  const { rows: checkpoints } = await db.query<{ created_at: string; removed: string }>(
    `SELECT created_at, removed FROM audit_checkpoints ORDER BY up_to_seq DESC LIMIT 1`,
  );
  const audit = checkpoints[0];
  return Object.fromEntries([
    ...(audit
      ? [
          [
            'audit',
            {
              startedAt: audit.created_at,
              finishedAt: audit.created_at,
              purged: Number(audit.removed),
              keepMs: NaN,
            },
          ] as const,
        ]
      : []),
    ...rows.map((row) => [
      row.class,
      {
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        purged: Number(row.purged),
        keepMs: Number(row.keep_ms),
      },
    ]),
  ]);
}

async function count(db: Queryable, sql: string, params: unknown[]): Promise<number> {
  const { rows } = await db.query<{ n: string }>(sql, params);
  return Number(rows[0]!.n);
}

/** How many rows of each class a pass run now with these settings would remove. */
export async function countDue(
  db: Queryable,
  settings: RetentionSettings,
  now: number,
): Promise<Record<RetentionClass, number>> {
  const runCutoff = new Date(now - settings.keepMs.exercises);
  const oldestKept = await readOldestKeptRun(db, runCutoff);
  const cut = cutoffsAt(settings, {
    now,
    oldestKeptRunCreatedAt: oldestKept === null ? null : Date.parse(oldestKept),
  });
  const at = (ms: number) => new Date(ms);
  const bound = await readFeedPurgeBound(db, at(cut['feed-events']));
  const exerciseItems = at(cut.exerciseItems);
  return {
    reports:
      (await count(db, `SELECT count(*) AS n FROM reports r WHERE ${REPORT_EXPIRED}`, [
        false,
        at(cut.reports),
      ])) +
      (await count(db, `SELECT count(*) AS n FROM report_submissions s WHERE ${LEDGER_ORPHAN_EXPIRED}`, [
        at(cut.reports),
      ])),
    alerts: await count(db, `SELECT count(*) AS n FROM alerts a WHERE ${ALERT_EXPIRED}`, [
      false,
      at(cut.alerts),
    ]),
    exercises:
      (await count(db, `SELECT count(*) AS n FROM alerts a WHERE ${ALERT_EXPIRED}`, [true, exerciseItems])) +
      (await count(db, `SELECT count(*) AS n FROM reports r WHERE ${REPORT_EXPIRED}`, [
        true,
        exerciseItems,
      ])) +
      (await count(db, `SELECT count(*) AS n FROM warnings w WHERE ${WARNING_EXPIRED}`, [exerciseItems])) +
      (await count(db, `SELECT count(*) AS n FROM exercise_runs x WHERE ${RUN_EXPIRED}`, [runCutoff])),
    'feed-events':
      bound === null
        ? 0
        : await count(db, `SELECT count(*) AS n FROM feed_events WHERE position <= $1`, [bound]),
    audit: await count(db, `SELECT count(*) AS n FROM audit_events WHERE at < $1`, [at(cut.audit)]),
  };
}

/**
 * Each class: its setting (the one the last pass ran with, else `settings`),
 * its oldest row, the rows due and the last pass. Reports an expired alert
 * holds are not due until the alert is gone; the pass that removes the alert
 * removes them too.
 */
/** The setting a class's last pass ran with, if it recorded one. */
function keptFor(run: LastRun | undefined): number | undefined {
  return run && Number.isFinite(run.keepMs) ? run.keepMs : undefined;
}

export async function readRetentionStatus(
  db: Queryable,
  settings: RetentionSettings,
  now: number,
): Promise<ClassStatus[]> {
  const lastRuns = await readLastRuns(db);
  const effective: RetentionSettings = {
    ...settings,
    keepMs: Object.fromEntries(
      RETENTION_CLASSES.map((cls) => [cls, keptFor(lastRuns[cls]) ?? settings.keepMs[cls]]),
    ) as Record<RetentionClass, number>,
  };
  const [oldest, due] = [await readOldest(db), await countDue(db, effective, now)];
  return RETENTION_CLASSES.map((cls) => ({
    class: cls,
    keepMs: effective.keepMs[cls],
    oldest: oldest[cls],
    due: due[cls],
    lastRun: lastRuns[cls] ?? null,
  }));
}
