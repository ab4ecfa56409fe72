import { createHash } from 'node:crypto';
import type { Queryable } from '@renkei/db';
import { evaluateExpectations, scenarioTime } from '@renkei/exercise';
import { appendToFeed } from '@renkei/feed';
import type { OrganisationRegistry } from '@renkei/registry';
import type { ExerciseRunView, ExerciseTask, ExerciseTaskView } from '@renkei/schema';
import { clockOf, injectsOf, runFacts, type InjectRow, type RunRow } from '../queries/exercises.js';

/** The GSOC organisation: who publishes warnings and triages, for scoring. */
export function gsocOf(registry: OrganisationRegistry): string {
  return registry.list().find((organisation) => organisation.kind === 'gsoc')?.id ?? 'gsoc';
}

const scenarioOf = (run: RunRow) => ({
  id: run.scenario.id,
  version: run.scenario.version,
  title: run.scenario.title,
});

/** The run as the exercise control sees it at real time `now`: clock, injects, scoring. */
export async function controlView(
  db: Queryable,
  run: RunRow,
  registry: OrganisationRegistry,
  now: number = run.endedAt ? Date.parse(run.endedAt) : Date.now(),
): Promise<ExerciseRunView> {
  const injects = await injectsOf(db, run.id);
  const facts = await runFacts(db, run, gsocOf(registry));
  return {
    id: run.id,
    scenario: scenarioOf(run),
    state: run.state,
    speed: run.speed,
    startAt: run.startAt,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    elapsedMs: Math.round(scenarioTime(clockOf(run), now)),
    participants: run.participants,
    injects: run.scenario.injects.map((inject) => {
      const row = injects.find((candidate) => candidate.injectId === inject.id);
      return {
        id: inject.id,
        kind: inject.kind,
        at: inject.at,
        sentAt: row?.sentAt ?? null,
        reportId: row?.sentAt ? row.reportId : null,
        warningId: row?.warningId ?? null,
        alertId: facts.injects[inject.id]?.alertIds?.[0] ?? null,
      };
    }),
    expectations: evaluateExpectations(run.scenario, facts, now),
  };
}

/** The tasks of a run sent to one organisation so far. */
export function tasksOf(run: RunRow, injects: readonly InjectRow[], organisationId: string): ExerciseTask[] {
  return run.scenario.injects.flatMap((inject) => {
    const row = injects.find((candidate) => candidate.injectId === inject.id);
    if (inject.kind !== 'information-request' || inject.to !== organisationId || !row?.sentAt) return [];
    return [
      {
        runId: run.id,
        scenario: scenarioOf(run),
        inject: inject.id,
        message: inject.message,
        sentAt: row.sentAt,
      },
    ];
  });
}

/** What a participant sees of a run: its own tasks, never the scoring. */
export async function participantView(
  db: Queryable,
  run: RunRow,
  organisationId: string,
): Promise<ExerciseTaskView> {
  const tasks = tasksOf(run, await injectsOf(db, run.id), organisationId);
  return {
    id: run.id,
    scenario: scenarioOf(run),
    state: run.state,
    tasks: tasks.map(({ inject, message, sentAt }) => ({ inject, message, sentAt })),
  };
}

/**
 * Puts the control's view of the run on the feed (analysts' `exercise`
 * frames) when anything but the clock changed since the last one, in the
 * caller's transaction: an inject sent, an expectation met or missed, a
 * state change. The run row keeps a digest of what was last sent.
 */
export async function publishControlView(
  db: Queryable,
  run: RunRow,
  registry: OrganisationRegistry,
  now: number = Date.now(),
): Promise<void> {
  const view = await controlView(db, run, registry, now);
  const digest = createHash('sha256')
    .update(
      JSON.stringify({
        ...view,
        elapsedMs: 0,
        expectations: view.expectations.map(({ dueAt: _due, ...o }) => o),
      }),
    )
    .digest('base64url');
  const { rows } = await db.query<{ changed: boolean }>(
    `UPDATE exercise_runs SET last_event = $2 WHERE id = $1 AND last_event IS DISTINCT FROM $2 RETURNING true AS changed`,
    [run.id, digest],
  );
  if (rows.length === 0) return;
  await appendToFeed(db, [{ kind: 'exercise', payload: { audience: 'control', run: view } }]);
}

/** A task's frame for the one participant it is addressed to, with the inject that sends it. */
export async function publishTask(db: Queryable, organisationId: string, task: ExerciseTask): Promise<void> {
  await appendToFeed(db, [{ kind: 'exercise', payload: { audience: 'participant', organisationId, task } }]);
}
