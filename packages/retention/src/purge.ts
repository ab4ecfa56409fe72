import { AuditChainBroken, purgeAuditBefore, recordAudit, type AuditSigner } from '@renkei/audit';
import { advisoryLeadership, withTransaction, type Pool, type PoolClient } from '@renkei/db';
import type { HubMetrics } from '@renkei/metrics';
import { Wakeable, type Closable, type Logger } from '@renkei/runtime';
import {
  findExpiredAlerts,
  findExpiredReports,
  purgeAlerts,
  purgeExerciseRuns,
  purgeExerciseWarnings,
  purgeFeedBatch,
  purgeLedgerOrphans,
  purgeReports,
  readFeedPurgeBound,
  readOldestKeptRun,
  type BatchResult,
} from './queries.js';
import { cutoffsAt, type Cutoffs } from './rules.js';
import { DAY_MS, RETENTION_CLASSES, type RetentionClass, type RetentionSettings } from './settings.js';
import { readOldest } from './status.js';

// Any fixed number; the same in every process of the hub.
const RETENTION_LOCK = 0x5254_4e50; // "RTNP"
/** The actor named on the audit entries a pass writes. */
export const RETENTION_ACTOR = 'system:retention';

export interface PurgeOptions {
  pool: Pool;
  /** The pass's lock is held on a connection of its own, outside the pool. */
  databaseUrl: string;
  settings: RetentionSettings;
  logger: Logger;
  /**
   * Takes, inside a batch's transaction, the locks correlation takes for
   * these reports (their indicators, their sector and category), so no report
   * being correlated can start to hold one while the batch removes it. The
   * correlator passes its own; without it a backdated report correlating
   * with an expiring one at that instant could name a removed report.
   */
  lockReports?: (db: PoolClient, reportIds: readonly string[]) => Promise<void>;
  metrics?: HubMetrics;
  /**
   * The key checkpoints of the audit chain are signed with, loaded when an
   * audit entry is first due (years after start, by default). Without it the
   * audit class is reported on and never purged.
   */
  auditSigner?: () => Promise<AuditSigner>;
  /** The clock (tests move it); epoch milliseconds. */
  now?: () => number;
  /** Asked between batches: a closing service stops after the batch in hand. */
  shouldStop?: () => boolean;
}

export interface ClassOutcome {
  class: RetentionClass;
  count: number;
  /** The time range of what was removed (ISO). */
  oldest: string | null;
  newest: string | null;
  tables: Record<string, number>;
}

export interface PassOutcome {
  startedAt: Date;
  classes: ClassOutcome[];
  audit: AuditPurgeOutcome;
}

export interface AuditPurgeOutcome {
  count: number;
  /** False when the pass had no key to sign a checkpoint with: nothing of the audit log is removed then. */
  wired: boolean;
}

/**
 * The audit class: a prefix of the hash chain older than the cutoff goes
 * behind a signed checkpoint (`purgeAuditBefore`), so `renkei audit verify`
 * still passes afterwards, and the removal is itself an audit entry (class,
 * count, time range). A chain that is already broken is never purged: the
 * evidence of an edit stays, and the error is logged for an operator.
 */
export async function purgeAuditClass(
  pool: Pool,
  cutoff: Date,
  keepMs: number,
  log: Logger,
  signer?: () => Promise<AuditSigner>,
): Promise<AuditPurgeOutcome> {
  if (!signer) return { count: 0, wired: false };
  try {
    const { rows } = await pool.query<{ due: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM audit_events WHERE at < $1 AND chain_seq IS NOT NULL) AS due`,
      [cutoff],
    );
    if (!rows[0]?.due) return { count: 0, wired: true };
    const { removed, checkpoint } = await purgeAuditBefore(pool, cutoff, await signer());
    if (removed > 0) {
      await recordAudit(pool, {
        kind: 'retention.purged',
        actor: RETENTION_ACTOR,
        organisationId: null,
        object: 'audit',
        outcome: 'success',
        details: {
          class: 'audit',
          count: removed,
          from: checkpoint?.oldestAt ?? null,
          to: checkpoint?.newestAt ?? null,
          upToSeq: checkpoint?.upToSeq ?? null,
          cutoff: cutoff.toISOString(),
          keepDays: keepMs / DAY_MS,
        },
      });
    }
    return { count: removed, wired: true };
  } catch (error) {
    if (!(error instanceof AuditChainBroken)) throw error;
    log.error({ err: error }, 'the audit chain is broken: no audit entry is purged until it is examined');
    return { count: 0, wired: true };
  }
}

type Step = (db: PoolClient) => Promise<{ result: BatchResult; more: boolean }>;

/**
 * One purge pass, if no other process of the hub is running one (else
 * null): every class in bounded batches, each its own short transaction,
 * then one audit entry per class that lost rows. Alerts go before reports,
 * so the reports of an alert removed in this pass go in it too.
 */
export async function runPurgePass(options: PurgeOptions): Promise<PassOutcome | null> {
  const log = options.logger.child({ component: 'retention' });
  const leadership = advisoryLeadership({
    databaseUrl: options.databaseUrl,
    lockKey: RETENTION_LOCK,
    applicationName: 'renkei-retention',
    logger: log,
    onChange: () => undefined,
  });
  if (!(await leadership.tryToLead())) return null;
  try {
    return await pass(options, log);
  } finally {
    await leadership.stepDown();
  }
}

async function pass(options: PurgeOptions, log: Logger): Promise<PassOutcome> {
  const { pool, settings } = options;
  const now = (options.now ?? Date.now)();
  const startedAt = new Date(now);
  // A pass that stopped halfway left its rows unaudited: their entries are written first.
  const { rows: unaudited } = await pool.query<{ id: string }>(
    `SELECT id FROM retention_runs WHERE audited_at IS NULL ORDER BY id`,
  );
  for (const { id } of unaudited) await finishRun(pool, id);

  const oldestKept = await readOldestKeptRun(pool, new Date(now - settings.keepMs.exercises));
  const cut = cutoffsAt(settings, {
    now,
    oldestKeptRunCreatedAt: oldestKept === null ? null : Date.parse(oldestKept),
  });
  const limit = settings.batchSize;
  const lock = options.lockReports ?? (async () => undefined);
  const at = (ms: number) => new Date(ms);

  // No correlation locks here (an alert may hold 500 reports, each with its indicators): the
  // alert's row lock holds off a new version, and a report transaction that had read the alert
  // before it went fails on the missing row and, retried, raises it anew, holding its reports;
  // the reports step below takes correlation's locks and sees that.
  const alertSteps = (exercise: boolean, cutoff: Date): Step => {
    let after: { at: string; id: string } | undefined;
    return async (db) => {
      const found = await findExpiredAlerts(db, exercise, cutoff, limit, after);
      after = found.after ?? after;
      const result = await purgeAlerts(db, exercise, cutoff, found.ids);
      return { result, more: found.ids.length === limit };
    };
  };
  const reportSteps = (exercise: boolean, cutoff: Date): Step => {
    let after: { at: string; id: string } | undefined;
    return async (db) => {
      const found = await findExpiredReports(db, exercise, cutoff, limit, after);
      after = found.after ?? after;
      // Correlation's locks before any row lock, the order a report transaction takes them in.
      await lock(db, found.ids);
      const result = await purgeReports(db, exercise, cutoff, found.ids);
      return { result, more: found.ids.length === limit };
    };
  };
  const simpleSteps =
    (purge: (db: PoolClient) => Promise<BatchResult>): Step =>
    async (db) => {
      const result = await purge(db);
      return { result, more: result.count === limit };
    };

  const plan = async (): Promise<[RetentionClass, Step[]][]> => {
    const bound = await readFeedPurgeBound(pool, at(cut['feed-events']));
    return [
      ['feed-events', bound === null ? [] : [simpleSteps((db) => purgeFeedBatch(db, bound, limit))]],
      ['alerts', [alertSteps(false, at(cut.alerts))]],
      [
        'exercises',
        [
          alertSteps(true, at(cut.exerciseItems)),
          reportSteps(true, at(cut.exerciseItems)),
          simpleSteps((db) => purgeExerciseWarnings(db, at(cut.exerciseItems), limit)),
          simpleSteps((db) => purgeExerciseRuns(db, at(cut.exercises), limit)),
        ],
      ],
      [
        'reports',
        [
          reportSteps(false, at(cut.reports)),
          simpleSteps((db) => purgeLedgerOrphans(db, at(cut.reports), limit)),
        ],
      ],
    ];
  };

  const classes: ClassOutcome[] = [];
  for (const [cls, steps] of await plan()) {
    if (options.shouldStop?.()) break;
    classes.push(await purgeClass(options, cls, settings.keepMs[cls], cutoffFor(cls, cut), steps));
  }
  const audit = options.shouldStop?.()
    ? { count: 0, wired: options.auditSigner !== undefined }
    : await purgeAuditClass(pool, at(cut.audit), settings.keepMs.audit, log, options.auditSigner);

  if (options.metrics) {
    const metrics = options.metrics;
    for (const outcome of classes) metrics.retentionPurged.inc({ class: outcome.class }, outcome.count);
    metrics.retentionLastRun.set(Date.now() / 1000);
    const oldest = await readOldest(pool);
    for (const cls of RETENTION_CLASSES) {
      const time = oldest[cls];
      metrics.retentionOldestAge.set({ class: cls }, time ? Math.max(0, (now - Date.parse(time)) / 1000) : 0);
    }
  }
  const removed = classes.filter((outcome) => outcome.count > 0);
  if (removed.length > 0) {
    log.info(
      Object.fromEntries(removed.map((outcome) => [outcome.class, outcome.count])),
      'retention: expired rows removed',
    );
  }
  return { startedAt, classes, audit };
}

function cutoffFor(cls: RetentionClass, cut: Cutoffs): number {
  return cls === 'exercises' ? cut.exercises : cut[cls];
}

async function purgeClass(
  options: PurgeOptions,
  cls: RetentionClass,
  keepMs: number,
  cutoff: number,
  steps: readonly Step[],
): Promise<ClassOutcome> {
  const { pool } = options;
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO retention_runs (class, keep_ms, cutoff) VALUES ($1, $2, $3) RETURNING id`,
    [cls, keepMs, new Date(cutoff)],
  );
  const runId = rows[0]!.id;
  const total: ClassOutcome = { class: cls, count: 0, oldest: null, newest: null, tables: {} };
  for (const step of steps) {
    for (;;) {
      if (options.shouldStop?.()) break;
      const more = await withTransaction(pool, async (db) => {
        const { result, more } = await step(db);
        if (result.count > 0) {
          add(total, result);
          // In the batch's own transaction: the run row always says what is gone.
          await db.query(
            `UPDATE retention_runs SET purged = $2, oldest = $3, newest = $4, tables = $5 WHERE id = $1`,
            [runId, total.count, total.oldest, total.newest, total.tables],
          );
        }
        return more;
      });
      if (!more) break;
    }
  }
  await finishRun(pool, runId);
  return total;
}

function add(total: ClassOutcome, batch: BatchResult): void {
  total.count += batch.count;
  const before = (a: string, b: string) => Date.parse(a) < Date.parse(b);
  if (batch.oldest && (!total.oldest || before(batch.oldest, total.oldest))) total.oldest = batch.oldest;
  if (batch.newest && (!total.newest || before(total.newest, batch.newest))) total.newest = batch.newest;
  for (const [table, n] of Object.entries(batch.tables)) total.tables[table] = (total.tables[table] ?? 0) + n;
}

/** Writes a run's audit entry (when it removed anything) and marks it finished, in one transaction. */
async function finishRun(pool: Pool, runId: string): Promise<void> {
  await withTransaction(pool, async (db) => {
    const { rows } = await db.query<{
      class: RetentionClass;
      keep_ms: string;
      cutoff: string;
      purged: string;
      oldest: string | null;
      newest: string | null;
      tables: Record<string, number>;
      audited_at: string | null;
    }>(`SELECT * FROM retention_runs WHERE id = $1 FOR UPDATE`, [runId]);
    const run = rows[0];
    if (!run || run.audited_at) return;
    const count = Number(run.purged);
    if (count > 0) {
      await recordAudit(db, {
        kind: 'retention.purged',
        actor: RETENTION_ACTOR,
        organisationId: null,
        object: run.class,
        outcome: 'success',
        details: {
          class: run.class,
          count,
          from: run.oldest,
          to: run.newest,
          tables: run.tables,
          cutoff: run.cutoff,
          keepDays: Number(run.keep_ms) / DAY_MS,
        },
      });
    }
    await db.query(
      `UPDATE retention_runs SET finished_at = coalesce(finished_at, now()), audited_at = now() WHERE id = $1`,
      [runId],
    );
  });
}

export interface RetentionRunner extends Closable {
  /** Runs a pass now (between scheduled ones), unless one is running; resolves when it ends. */
  runNow(): Promise<PassOutcome | null>;
}

/**
 * Runs a purge pass every `purgeIntervalMs` (the first a little after
 * start). Every process may run this; one pass runs at a time across the hub.
 * A pass that fails (PostgreSQL away) is logged and tried again at the next
 * interval: nothing half-done is lost, each batch committed whole.
 */
export function startRetention(options: PurgeOptions & { firstPassAfterMs?: number }): RetentionRunner {
  const log = options.logger.child({ component: 'retention' });
  const sleep = new Wakeable();
  let closed = false;
  let current: Promise<PassOutcome | null> | undefined;
  const once = () => {
    current ??= runPurgePass({ ...options, shouldStop: () => closed || (options.shouldStop?.() ?? false) })
      .catch((error: unknown) => {
        log.warn({ err: error }, 'retention pass failed; trying again at the next interval');
        return null;
      })
      .finally(() => {
        current = undefined;
      });
    return current;
  };
  const loop = (async () => {
    await sleep.pause(options.firstPassAfterMs ?? Math.min(options.settings.purgeIntervalMs, 30_000));
    while (!closed) {
      sleep.beginRound();
      await once();
      await sleep.pause(options.settings.purgeIntervalMs);
    }
  })();
  return {
    runNow: once,
    async close() {
      closed = true;
      sleep.close();
      await loop;
      await current;
    },
  };
}
