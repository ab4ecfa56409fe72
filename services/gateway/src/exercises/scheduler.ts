import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { recordAudit } from '@renkei/audit';
import { mintToken } from '@renkei/auth';
import { withTransaction, type Pool } from '@renkei/db';
import {
  afterActionReport,
  evaluateExpectations,
  realTimeOf,
  scenarioTime,
  summaryOf,
} from '@renkei/exercise';
import { appendToFeed } from '@renkei/feed';
import type { OrganisationRegistry } from '@renkei/registry';
import type { ExerciseInject, WarningRecord } from '@renkei/schema';
import { importedReportId } from '@renkei/stix/ids';
import {
  activeRunIds,
  claimDueInject,
  clockOf,
  earlierSummaries,
  findRun,
  markInjectSent,
  runAlertTimes,
  runFacts,
  stampRunItems,
  updateRunState,
  type InjectRow,
  type RunRow,
} from '../queries/exercises.js';
import { insertWarning } from '../queries/warnings.js';
import { gsocOf, publishControlView, publishTask, tasksOf } from './views.js';

/** How report injects reach ingest: as the organisation they name, with a token minted for one inject. */
export interface InjectSigning {
  signingKeyFile: string;
  issuer: string;
  audience: string;
}

export interface ExerciseSchedulerOptions {
  pool: Pool;
  logger: Logger;
  registry: OrganisationRegistry;
  ingestUrl: string;
  signing: InjectSigning | null;
  /** How often due injects and finished runs are looked for. */
  tickMs: number;
  /**
   * Names the reports and warnings injects make (the hub secret's `exercise-id`
   * key): fixed by run and inject, so a retry is the same submission, and
   * unpredictable, so no participant can take an inject's id first and block it.
   */
  idKey: Uint8Array;
}

/**
 * Plays every run of the hub: starts the ones due, sends each inject once
 * when scenario time reaches it, and ends a run when every inject is sent
 * and every expectation is met, or every deadline has passed (until then a
 * missed one may still come late). Every gateway runs one: an inject is sent by
 * whichever locks its row first (`FOR UPDATE SKIP LOCKED`), in the
 * transaction that marks it sent. A report inject goes to ingest with an id
 * and a body fixed by the run and the inject (its detection time is when
 * scenario time reached it), so when a process dies between ingest's 202
 * and the commit, the next attempt is the same submission and ingest
 * answers it without a second report.
 */
export function startExerciseScheduler(options: ExerciseSchedulerOptions): { close(): Promise<void> } {
  const { pool, logger } = options;
  const itemId = (runId: string, injectId: string, kind: string) =>
    importedReportId({ key: options.idKey, scope: 'exercise' }, [runId, injectId, kind]);
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((error: unknown) =>
          logger.warn({ err: error }, 'exercise scheduler round failed; trying again'),
        )
        .finally(schedule);
    }, options.tickMs);
    timer.unref();
  };

  async function tick(): Promise<void> {
    for (const runId of await activeRunIds(pool)) {
      if (stopped) return;
      await playRun(runId);
    }
  }

  async function playRun(runId: string): Promise<void> {
    const started = await withTransaction(pool, async (db) => {
      const run = await findRun(db, runId, { lock: true });
      if (!run) return null;
      if (run.state === 'scheduled') {
        if (!run.startAt || Date.parse(run.startAt) > Date.now()) return null;
        await updateRunState(db, run.id, { state: 'running', startedAt: run.startAt });
        return { ...run, state: 'running' as const, startedAt: run.startAt };
      }
      return run;
    });
    if (!started || started.state !== 'running') return;
    for (;;) {
      if (stopped) return;
      const sent = await withTransaction(pool, async (db) => {
        // The run row again: a pause or an abort since the last inject stops the next.
        const run = await findRun(db, runId);
        if (!run || run.state !== 'running') return false;
        const elapsed = scenarioTime(clockOf(run), Date.now());
        const inject = await claimDueInject(db, runId, elapsed);
        if (!inject) return false;
        await sendInject(db, run, inject);
        return true;
      });
      if (!sent) break;
    }
    await finishIfDone(runId);
  }

  async function sendInject(
    db: Parameters<Parameters<typeof withTransaction>[1]>[0],
    run: RunRow,
    row: InjectRow,
  ) {
    const inject = run.scenario.injects.find((candidate) => candidate.id === row.injectId)!;
    const now = new Date().toISOString();
    const sent = await deliver(db, run, inject, row);
    await markInjectSent(db, run.id, row.injectId, { at: now, ...sent });
    if (inject.kind === 'information-request') {
      const [task] = tasksOf(run, [{ ...row, sentAt: now }], inject.to);
      await publishTask(db, inject.to, task!);
    }
    await publishControlView(db, run, options.registry);
    await recordAudit(db, {
      kind: 'exercise.inject-sent',
      actor: `exercise:${run.id}`,
      organisationId: inject.kind === 'report' ? inject.from : gsocOf(options.registry),
      object: `${run.id}/${inject.id}`,
      outcome: 'success',
      details: { kind: inject.kind, ...sent },
    });
    logger.info({ runId: run.id, inject: inject.id, kind: inject.kind, ...sent }, 'exercise inject sent');
  }

  async function deliver(
    db: Parameters<Parameters<typeof withTransaction>[1]>[0],
    run: RunRow,
    inject: ExerciseInject,
    row: InjectRow,
  ): Promise<{ reportId?: string; warningId?: string; recipients?: string[] }> {
    switch (inject.kind) {
      case 'report': {
        const reportId = itemId(run.id, inject.id, 'report');
        // Stamped and committed before the send: the correlator may store the report, and the alert
        // it raises, before this transaction commits, and its triggers stamp the alert from this row.
        // The id is fixed by the run and the inject, so a retry stamps the same row again.
        await stampRunItems(pool, run.id, 'report', [reportId]);
        const due = realTimeOf(clockOf(run), row.offsetMs, Date.now()) ?? Date.now();
        await submitReport(run, inject, {
          id: reportId,
          ...inject.report,
          detectedAt: new Date(Math.floor(due)).toISOString(),
          exercise: true,
        });
        return { reportId };
      }
      case 'warning': {
        const warningId = itemId(run.id, inject.id, 'warning');
        const sectors =
          inject.warning.sectors === 'all' ? 'all' : [...new Set(inject.warning.sectors)].sort();
        const record: WarningRecord = {
          id: warningId,
          ...inject.warning,
          sectors,
          indicators: [],
          alertIds: [],
          publishedAt: new Date().toISOString(),
          publishedBy: `exercise:${run.id}`,
          exercise: true,
        };
        // Before the insert: the warning trigger stamps an exercise warning with every run on, unless
        // it already belongs to one.
        await stampRunItems(db, run.id, 'warning', [warningId]);
        await insertWarning(db, record);
        await appendToFeed(db, [{ kind: 'warning', payload: record }]);
        const participants = new Set(run.participants);
        const recipients = options.registry
          .list()
          .filter(
            (organisation) =>
              organisation.enabled &&
              organisation.kind !== 'gsoc' &&
              participants.has(organisation.id) &&
              (sectors === 'all' || sectors.includes(organisation.sector)),
          )
          .map((organisation) => organisation.id)
          .sort();
        return { warningId, recipients };
      }
      case 'information-request':
        return {};
    }
  }

  async function submitReport(
    run: RunRow,
    inject: Extract<ExerciseInject, { kind: 'report' }>,
    body: object,
  ) {
    if (!options.signing) throw new Error('no signing key: report injects cannot be sent');
    const organisation = options.registry.get(inject.from);
    if (!organisation?.enabled) throw new Error(`organisation ${inject.from} is not enabled`);
    const signingKey = JSON.parse(await readFile(options.signing.signingKeyFile, 'utf8')) as Parameters<
      typeof mintToken
    >[0];
    const token = await mintToken(
      signingKey,
      {
        sub: `exercise:${run.id}:${inject.id}`,
        org: organisation.id,
        sector: organisation.sector,
        roles: ['reporter'],
      },
      { issuer: options.signing.issuer, audience: options.signing.audience, ttl: '2m' },
    );
    const response = await fetch(new URL('/v1/reports', options.ingestUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    // 202 the first time and for the same submission again; anything else is tried again next round.
    if (response.status !== 202) {
      throw new Error(`ingest answered ${response.status} to inject ${inject.id}: ${await response.text()}`);
    }
  }

  async function finishIfDone(runId: string): Promise<void> {
    await withTransaction(pool, async (db) => {
      const run = await findRun(db, runId, { lock: true });
      if (!run || run.state !== 'running') return;
      const now = Date.now();
      // An expectation met or missed since the last round shows on the analysts' board.
      await publishControlView(db, run, options.registry, now);
      const facts = await runFacts(db, run, gsocOf(options.registry));
      if (Object.values(facts.injects).some((inject) => inject.sentAt === null)) return;
      const outcomes = evaluateExpectations(run.scenario, facts, now);
      if (outcomes.some((outcome) => outcome.status === 'pending')) return;
      // A missed expectation may still be answered late until the last deadline of the run has passed.
      const lastDue = Math.max(
        0,
        ...outcomes.flatMap((outcome) => (outcome.dueAt ? [Date.parse(outcome.dueAt)] : [])),
      );
      if (outcomes.some((outcome) => outcome.status !== 'met') && now < lastDue) return;
      const endedAt = new Date(now).toISOString();
      const ended = { ...run, state: 'completed' as const, endedAt };
      const report = await buildReport(db, ended, options.registry);
      await updateRunState(db, run.id, { state: 'completed', endedAt, summary: summaryOf(report) });
      await publishControlView(db, ended, options.registry, now);
      logger.info({ runId, summary: summaryOf(report) }, 'exercise run completed');
    });
  }

  schedule();
  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** The after-action report of a run as stored now. */
export async function buildReport(
  db: Parameters<Parameters<typeof withTransaction>[1]>[0] | Pool,
  run: RunRow,
  registry: OrganisationRegistry,
) {
  const gsoc = gsocOf(registry);
  const facts = await runFacts(db, run, gsoc);
  const now = run.endedAt ? Date.parse(run.endedAt) : Date.now();
  const outcomes = evaluateExpectations(run.scenario, facts, now);
  return afterActionReport({
    run: {
      id: run.id,
      scenario: { id: run.scenario.id, version: run.scenario.version, title: run.scenario.title },
      state: run.state,
      speed: run.speed,
      startedAt: run.startedAt,
      endedAt: run.endedAt,
    },
    clock: facts.clock,
    outcomes,
    sectorOf: (id) => registry.get(id)?.sector,
    events: {
      injects: Object.values(facts.injects).flatMap((inject) =>
        inject.sentAt === null ? [] : [inject.sentAt],
      ),
      reports: facts.reports.map((report) => report.at),
      warnings: facts.warnings.map((warning) => warning.at),
      acknowledgements: facts.acknowledgements.map((ack) => ack.at),
      triage: facts.triage.map((action) => action.at),
      alerts: await runAlertTimes(db, run.id),
    },
    earlierRuns: await earlierSummaries(db, run.scenario.id, run.id),
    now,
  });
}
