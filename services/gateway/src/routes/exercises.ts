import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { recordAudit } from '@renkei/audit';
import { principalOf, requireAnyRole } from '@renkei/auth';
import { withTransaction, type Pool } from '@renkei/db';
import { afterActionCsv, afterActionHtml, checkScenario, type AfterActionReport } from '@renkei/exercise';
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
import { archiveExerciseRun, purgeExerciseRun } from '../exercises/purge.js';
import { buildReport } from '../exercises/scheduler.js';
import { controlView, participantView, publishControlView } from '../exercises/views.js';
import {
  archivedReportOf,
  findRun,
  insertRun,
  listRuns,
  updateRunState,
  type RunRow,
} from '../queries/exercises.js';

const CONTROLLERS = ['analyst', 'admin'] as const;
const idParams = z.object({ id: z.uuid() });
const controlParams = z.object({ id: z.uuid(), action: z.enum(['start', 'pause', 'resume', 'abort']) });
const reportQuery = z.object({
  // Without it, the Accept header chooses (a browser asking for text/html gets the page); JSON otherwise.
  format: z.enum(['json', 'csv', 'html']).optional(),
  lang: z.enum(['ja', 'en']).default('en'),
});

/** The format an Accept header prefers among the three, by order of mention; JSON when none is named. */
export function formatFromAccept(accept: string | undefined): 'json' | 'csv' | 'html' {
  const wanted = (accept ?? '')
    .split(',')
    .map((part) => part.split(';')[0]!.trim().toLowerCase())
    .find((type) => ['application/json', 'text/csv', 'text/html'].includes(type));
  return wanted === 'text/html' ? 'html' : wanted === 'text/csv' ? 'csv' : 'json';
}

const purgeCountsSchema = z.object({
  reports: z.number().int(),
  alerts: z.number().int(),
  warnings: z.number().int(),
  acknowledgements: z.number().int(),
  triage: z.number().int(),
  kept: z.number().int(),
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
  deps: { pool: Pool; registry: OrganisationRegistry; canSendReports: boolean; purgePool?: Pool },
): void {
  const { pool, registry } = deps;
  const purgePool = deps.purgePool ?? pool;

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
    '/v1/exercises/:id/archive',
    {
      schema: {
        summary: 'Archive an ended run: freeze its after-action report (analysts, admins)',
        description:
          'The report is stored in the run row and answers `GET /v1/exercises/:id/report` from then on, even once the run’s items are purged. ' +
          'A run still on is a 409; archiving again keeps the first report.',
        tags: ['exercises'],
        params: idParams,
        response: {
          200: z.object({ id: z.uuid(), archivedAt: z.iso.datetime({ offset: true }) }),
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
      const { archivedAt } = await archiveExerciseRun(pool, request.params.id, registry, {
        actor: principal.subject,
        organisationId: principal.organisationId,
      });
      return { id: request.params.id, archivedAt };
    },
  );

  app.delete(
    '/v1/exercises/:id',
    {
      schema: {
        summary: 'Purge an archived, ended run: remove every item stamped with it (analysts, admins)',
        description:
          'Reports, alerts, warnings, acknowledgements and triage of the run go, in bounded batches; real data and other runs’ items stay. ' +
          'The run and its archived report stay readable. A run not archived is a 409. Asking again goes on where a purge stopped.',
        tags: ['exercises'],
        params: idParams,
        response: {
          200: z.object({ id: z.uuid(), purged: purgeCountsSchema }),
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
      const purged = await purgeExerciseRun(purgePool, request.params.id, {
        by: { actor: principal.subject, organisationId: principal.organisationId },
      });
      return { id: request.params.id, purged };
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
          'Time to acknowledge per sector and organisation (median and every value), expectations met, late and missed, the flow of information over time, and earlier runs of the same scenario (`comparison`). Times are scenario time. ' +
          '`format` chooses; without it `Accept: text/html` or `text/csv` does, JSON otherwise. An archived run answers with the report frozen when it was archived.',
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
      // An archived run answers from the report frozen then: its items may be purged since.
      const report = run.archivedAt
        ? ((await archivedReportOf(pool, run.id)) as AfterActionReport)
        : await buildReport(pool, run, registry);
      switch (request.query.format ?? formatFromAccept(request.headers.accept)) {
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
