import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { recordAudit } from '@renkei/audit';
import { principalOf, requireAnyRole } from '@renkei/auth';
import { withTransaction, type Pool } from '@renkei/db';
import { afterActionCsv, afterActionHtml, checkScenario } from '@renkei/exercise';
import { errorReplies, type HttpServer } from '@renkei/http';
import type { OrganisationRegistry } from '@renkei/registry';
import { RenkeiError } from '@renkei/runtime';
import {
  describeIssues,
  durationMs,
  exerciseRunRequestSchema,
  exerciseRunViewSchema,
  exerciseTaskViewSchema,
  type ExerciseRunView,
  type ExerciseTaskView,
  type Principal,
  type Sector,
} from '@renkei/schema';
import { buildReport } from '../exercises/scheduler.js';
import { controlView, participantView, publishControlView } from '../exercises/views.js';
import { findRun, insertRun, listRuns, updateRunState, type RunRow } from '../queries/exercises.js';

const CONTROLLERS = ['analyst', 'admin'] as const;
const idParams = z.object({ id: z.uuid() });
const controlParams = z.object({ id: z.uuid(), action: z.enum(['start', 'pause', 'resume', 'abort']) });
const reportQuery = z.object({
  format: z.enum(['json', 'csv', 'html']).default('json'),
  lang: z.enum(['ja', 'en']).default('en'),
});

/** Analysts and admins plan and control runs; a participant sees its own tasks only. */
const controls = (principal: Principal) =>
  principal.roles.some((role) => (CONTROLLERS as readonly string[]).includes(role));

/**
 * Cross-sector exercises: analysts plan a run of a scenario, start, pause,
 * resume or abort it, follow its injects and expectations and read its
 * after-action report; participants read the tasks addressed to them. The
 * schedule itself runs in every gateway (`startExerciseScheduler`).
 */
export function exerciseRoutes(
  app: HttpServer,
  deps: { pool: Pool; registry: OrganisationRegistry; canSendReports: boolean },
): void {
  const { pool, registry } = deps;

  app.post(
    '/v1/exercises',
    {
      schema: {
        summary: 'Plan a run of a scenario (analysts, admins)',
        description:
          'The scenario is checked whole first: every problem is a 400 naming its path (`scenario.injects[3].at`), and nothing is scheduled. ' +
          'With `startAt` the run starts by itself then; otherwise `POST /v1/exercises/:id/start` starts it.',
        tags: ['exercises'],
        body: exerciseRunRequestSchema,
        response: {
          201: z.object({ id: z.uuid(), state: z.literal('scheduled') }),
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_FORBIDDEN', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, CONTROLLERS);
      const checked = checkScenario(
        request.body.scenario,
        (id) => registry.get(id),
        (sectors: readonly Sector[]) =>
          registry
            .list()
            .filter((o) => o.enabled && o.kind !== 'gsoc' && sectors.includes(o.sector))
            .map((o) => o.id),
      );
      if (!checked.ok) {
        const fields = checked.issues.map((issue) => ({
          field: `scenario.${issue.path}`,
          message: issue.message,
        }));
        throw new RenkeiError('RENKEI_INVALID_REQUEST', describeIssues(fields), { details: { fields } });
      }
      const { scenario, participants } = checked;
      if (!deps.canSendReports && scenario.injects.some((inject) => inject.kind === 'report')) {
        const fields = [
          {
            field: 'scenario.injects',
            message: 'holds report injects, which this gateway cannot send without the hub signing key',
          },
        ];
        throw new RenkeiError('RENKEI_INVALID_REQUEST', describeIssues(fields), { details: { fields } });
      }
      const id = randomUUID();
      await withTransaction(pool, async (db) => {
        await insertRun(
          db,
          {
            id,
            scenario,
            participants,
            speed: request.body.speed,
            startAt: request.body.startAt ?? null,
            createdBy: principal.subject,
            organisationId: principal.organisationId,
          },
          new Map(scenario.injects.map((inject) => [inject.id, durationMs(inject.at)])),
        );
        await recordAudit(db, {
          kind: 'exercise.planned',
          actor: principal.subject,
          organisationId: principal.organisationId,
          object: id,
          outcome: 'success',
          details: {
            scenario: scenario.id,
            version: scenario.version,
            speed: request.body.speed,
            participants,
          },
        });
      });
      return reply.status(201).send({ id, state: 'scheduled' as const });
    },
  );

  app.post(
    '/v1/exercises/:id/:action',
    {
      schema: {
        summary: 'Start, pause, resume or abort a run (analysts, admins)',
        description:
          'Scenario time stands still while a run is paused; an aborted run sends nothing more. A move the run cannot make from its state is a 409.',
        tags: ['exercises'],
        params: controlParams,
        response: {
          200: z.object({ id: z.uuid(), state: exerciseRunViewSchema.shape.state }),
          ...errorReplies(
            'RENKEI_INVALID_REQUEST',
            'RENKEI_FORBIDDEN',
            'RENKEI_NOT_FOUND',
            'RENKEI_CONFLICT',
          ),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireAnyRole(principal, CONTROLLERS);
      const { id, action } = request.params;
      return withTransaction(pool, async (db) => {
        const run = await findRun(db, id, { lock: true });
        if (!run) throw new RenkeiError('RENKEI_NOT_FOUND', `no exercise run ${id}`);
        const now = Date.now();
        const refuse = () => {
          throw new RenkeiError('RENKEI_CONFLICT', `a ${run.state} run cannot ${action}`);
        };
        let change: Parameters<typeof updateRunState>[2];
        switch (action) {
          case 'start':
            if (run.state !== 'scheduled') refuse();
            change = { state: 'running', startedAt: new Date(now).toISOString() };
            break;
          case 'pause':
            if (run.state !== 'running') refuse();
            change = { state: 'paused', pauses: [...run.pauses, { from: now, to: null }] };
            break;
          case 'resume':
            if (run.state !== 'paused') refuse();
            change = {
              state: 'running',
              pauses: run.pauses.map((pause) => (pause.to === null ? { ...pause, to: now } : pause)),
            };
            break;
          case 'abort':
            if (run.state === 'completed' || run.state === 'aborted') refuse();
            change = {
              state: 'aborted',
              endedAt: new Date(now).toISOString(),
              pauses: run.pauses.map((pause) => (pause.to === null ? { ...pause, to: now } : pause)),
            };
            break;
        }
        await updateRunState(db, id, change!);
        await publishControlView(db, (await findRun(db, id))!, registry, now);
        await recordAudit(db, {
          kind: 'exercise.controlled',
          actor: principal.subject,
          organisationId: principal.organisationId,
          object: id,
          outcome: 'success',
          details: { action, from: run.state, to: change!.state },
        });
        return { id, state: change!.state };
      });
    },
  );

  app.get(
    '/v1/exercises',
    {
      schema: {
        summary: 'Runs, newest first: every run for analysts and admins, a participant’s own tasks otherwise',
        tags: ['exercises'],
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: {
          200: z.object({ items: z.array(z.union([exerciseRunViewSchema, exerciseTaskViewSchema])) }),
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const runs = await listRuns(pool, request.query.limit);
      const items = [];
      for (const run of runs) {
        const item = await viewOf(run, principal);
        if (item) items.push(item);
      }
      return { items };
    },
  );

  app.get(
    '/v1/exercises/:id',
    {
      schema: {
        summary:
          'A run: its state, each inject and each expectation per participant (met, late, missed, pending)',
        description:
          'A participant gets only the tasks addressed to it, never the scoring; anyone else gets 404.',
        tags: ['exercises'],
        params: idParams,
        response: {
          200: z.union([exerciseRunViewSchema, exerciseTaskViewSchema]),
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_NOT_FOUND', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const run = await findRun(pool, request.params.id);
      const view = run && (await viewOf(run, principal));
      if (!view) throw new RenkeiError('RENKEI_NOT_FOUND', `no exercise run ${request.params.id}`);
      return view;
    },
  );

  app.get(
    '/v1/exercises/:id/report',
    {
      schema: {
        summary:
          'The after-action report (analysts, admins): JSON, CSV, or a printable page in Japanese or English',
        description:
          'Time to acknowledge per sector and organisation (median and every value), expectations met, late and missed, the flow of information over time, and earlier runs of the same scenario. Times are scenario time.',
        tags: ['exercises'],
        params: idParams,
        querystring: reportQuery,
        // Text in three formats, sent as built: no 200 schema to serialise it again.
        response: { ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_FORBIDDEN', 'RENKEI_NOT_FOUND') },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, CONTROLLERS);
      const run = await findRun(pool, request.params.id);
      if (!run) throw new RenkeiError('RENKEI_NOT_FOUND', `no exercise run ${request.params.id}`);
      const report = await buildReport(pool, run, registry);
      switch (request.query.format) {
        case 'csv':
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="exercise-${run.id}.csv"`)
            .send(afterActionCsv(report) as never);
        case 'html':
          return reply
            .type('text/html; charset=utf-8')
            .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
            .send(afterActionHtml(report, request.query.lang) as never);
        case 'json':
          return reply.type('application/json; charset=utf-8').send(JSON.stringify(report) as never);
      }
    },
  );

  async function viewOf(
    run: RunRow,
    principal: Principal,
  ): Promise<ExerciseRunView | ExerciseTaskView | null> {
    if (controls(principal)) return controlView(pool, run, registry);
    return run.participants.includes(principal.organisationId)
      ? participantView(pool, run, principal.organisationId)
      : null;
  }
}
