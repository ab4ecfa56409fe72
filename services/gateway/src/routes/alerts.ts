import { z } from 'zod';
import { principalOf, requireAnyRole, type Sealer } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { errorReplies, invalidField, type HttpServer } from '@renkei/http';
import {
  alertTlpsFor,
  audienceOf,
  isAnalyst,
  seesEveryVersion,
  viewAlert,
  viewAlertChange,
  viewedVersion,
} from '@renkei/policy';
import { RenkeiError } from '@renkei/runtime';
import {
  alertDetailSchema,
  alertPageSchema,
  alertReportSchema,
  alertSummarySchema,
  bulkTriageResultSchema,
  bulkTriageSchema,
  cursorSchema,
  triageAssigneeChangeSchema,
  triageNoteSchema,
  triageStatusChangeSchema,
  triageUpdateSchema,
  type AlertDetail,
  type AlertPage,
  type AlertSummary,
  type AlertView,
  type BulkTriageResult,
  type TriageUpdate,
} from '@renkei/schema';
import {
  findAlert,
  listAlertsAfter,
  listAlertsBefore,
  listAlertVersions,
  listAlertsWithTriage,
} from '../queries/alerts.js';
import { findReports } from '../queries/reports.js';
import { findTriage, listTriageHistory, triageStatusesOf } from '../queries/triage.js';
import { opened } from '../cursors.js';
import { summariseAlerts } from '../summary.js';
import { applyTriage, type TriageRequest } from '../triage.js';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** A cursor from a previous page's `nextBefore`: older alerts, newest first. */
  before: cursorSchema.optional(),
  /** A cursor from a previous page's `nextAfter` or the stream: alerts changed since, oldest first. */
  after: cursorSchema.optional(),
});

const alertParams = z.object({ id: z.uuid() });

/** Candidate versions read per query while filling a viewer's page. */
const CANDIDATE_BATCH = 200;

/**
 * How long one read of every alert serves the summary: every open tab asks
 * again after each event, and this bounds what a burst costs the database
 * to a couple of reads a second however many tabs are open.
 */
const SUMMARY_READ_MS = 500;

/** Triage is the GSOC's work: only analysts move, assign and annotate alerts. */
const TRIAGE_ROLES = ['analyst'] as const;

/**
 * `GET /v1/alerts`, `GET /v1/alerts/:id` and the triage routes. What each
 * caller sees of an alert is the policy's view, never the stored record.
 */
export function alertRoutes(app: HttpServer, { pool, cursors }: { pool: Pool; cursors: Sealer }): void {
  app.get(
    '/v1/alerts',
    {
      schema: {
        summary: 'Alerts the caller may see: newest first, or oldest first after a cursor',
        description:
          'Without `after`: the newest alerts, then older ones with `before=<nextBefore>`. With `after`: alerts whose ' +
          'view changed after that cursor, oldest first; keep `nextAfter` to ask again later. Cursors are opaque.',
        tags: ['alerts'],
        querystring: listQuery,
        response: { 200: alertPageSchema, ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_UNAVAILABLE') },
      },
    },
    async (request): Promise<AlertPage> => {
      const principal = principalOf(request);
      const { limit } = request.query;
      const before = opened(cursors, 'before', request.query.before);
      const after = opened(cursors, 'after', request.query.after);
      if (before !== undefined && after !== undefined)
        throw invalidField('after', 'cannot be given with before: page one way at a time');
      const filter = { tlps: alertTlpsFor(principal), latestOnly: seesEveryVersion(principal) };
      const forward = after !== undefined;
      // Candidate versions are read a batch at a time until the viewer's page is full: a
      // viewer who may see few of them reads on, so a page never stops at a hidden version.
      const batch = Math.max(limit, CANDIDATE_BATCH);
      const shown: (AlertView & { position: string })[] = [];
      let from = forward ? after : before;
      for (;;) {
        const rows = forward
          ? await listAlertsAfter(pool, { ...filter, after: from!, limit: batch })
          : await listAlertsBefore(pool, { ...filter, before: from, limit: batch });
        for (const row of rows) {
          // Each alert appears once, at the version that last changed this viewer's view.
          if (viewedVersion(principal, row.record) !== row.version) continue;
          const view = viewAlert(principal, row.record);
          if (view) shown.push({ ...view, position: row.cursor });
          if (shown.length === limit) break;
        }
        if (shown.length === limit || rows.length < batch) break;
        from = rows.at(-1)!.cursor;
      }
      // One query for the page: a list shows where each alert's triage stands.
      const statuses = await triageStatusesOf(
        pool,
        shown.map((item) => item.id),
      );
      const items = shown.map(({ position, ...view }) => ({
        ...view,
        cursor: cursors.seal(BigInt(position)),
        triageStatus: statuses.get(view.id) ?? 'new',
      }));
      // Cursors come from the items the viewer receives, never from a version it may not know of:
      // with nothing new, `nextAfter` is the cursor it sent.
      if (forward)
        return { items, nextBefore: null, nextAfter: items.at(-1)?.cursor ?? request.query.after! };
      return {
        items,
        nextBefore: items.length === limit ? items.at(-1)!.cursor : null,
        nextAfter: items[0]?.cursor ?? null,
      };
    },
  );

  let summaryRead: { at: number; rows: ReturnType<typeof listAlertsWithTriage> } | undefined;
  /** Per audience (viewers who see the same), the summary of the current read. */
  let summaries = new Map<string, AlertSummary>();
  app.get(
    '/v1/alerts/summary',
    {
      schema: {
        summary: 'Counters and heat map over every alert the caller may see',
        description:
          'Open alerts per severity (of the caller’s view), exercise alerts apart; for analysts also reports in alerts ' +
          'over the last hour and a sector × category heat map of the last 24 hours. The same answer for every tab: ' +
          'ask again after `alert` and `alert-update` frames.',
        tags: ['alerts'],
        response: { 200: alertSummarySchema, ...errorReplies('RENKEI_UNAVAILABLE') },
      },
    },
    async (request): Promise<AlertSummary> => {
      const principal = principalOf(request);
      const now = Date.now();
      if (!summaryRead || now - summaryRead.at > SUMMARY_READ_MS) {
        const rows = listAlertsWithTriage(pool);
        // A failed read is not kept: the next request reads again.
        rows.catch(() => (summaryRead = undefined));
        summaryRead = { at: now, rows };
        summaries = new Map();
      }
      const read = summaryRead;
      const audience = audienceOf(principal);
      const known = summaries.get(audience);
      if (known) return known;
      const summary = summariseAlerts(principal, await read.rows, read.at);
      if (summaryRead === read) summaries.set(audience, summary);
      return summary;
    },
  );

  app.post(
    '/v1/alerts/triage',
    {
      schema: {
        summary: 'One triage change for many alerts (bulk acknowledge, assign, resolve)',
        description:
          'Analysts only. Each alert is changed in its own transaction, stored, audited and pushed as an `alert-update` ' +
          'frame, as if asked one by one; the answer has one result per alert, a refusal (already in that status, no such ' +
          'alert) beside the others that were done.',
        tags: ['triage'],
        body: bulkTriageSchema,
        response: {
          200: bulkTriageResultSchema,
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_FORBIDDEN', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request): Promise<BulkTriageResult> => {
      const principal = principalOf(request);
      requireAnyRole(principal, TRIAGE_ROLES);
      const { alertIds, change } = request.body;
      const triage: TriageRequest =
        change.kind === 'status'
          ? { kind: 'status', status: change.status, note: change.note }
          : { kind: 'assignee', assignee: change.assignee };
      const results: BulkTriageResult['results'] = [];
      // One after another: each takes its alert's lock, and a burst of 500 must not take 500 connections.
      for (const alertId of new Set(alertIds)) {
        try {
          results.push({ alertId, ok: true, update: await applyTriage(pool, principal, alertId, triage) });
        } catch (error) {
          if (!(error instanceof RenkeiError) || error.code === 'RENKEI_UNAVAILABLE') throw error;
          results.push({ alertId, ok: false, code: error.code, message: error.message });
        }
      }
      return { results };
    },
  );

  app.get(
    '/v1/alerts/:id',
    {
      schema: {
        summary: 'One alert with its versions and triage',
        description:
          'The alert and each of its versions as the caller may see them. Analysts get the triage history and ' +
          'assignee; other organisations only the status.',
        tags: ['alerts'],
        params: alertParams,
        response: {
          200: alertDetailSchema,
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_NOT_FOUND', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request): Promise<AlertDetail> => {
      const principal = principalOf(request);
      const { id } = request.params;
      const row = await findAlert(pool, id);
      const view = row && viewAlert(principal, row.record);
      // An alert the caller may not see is answered like one that does not exist.
      if (!row || !view) throw new RenkeiError('RENKEI_NOT_FOUND', `no alert ${id}`);
      const [versions, triage, reports] = await Promise.all([
        listAlertVersions(pool, id),
        findTriage(pool, id),
        // The view names only the reports this viewer may read; their words come from the store.
        findReports(pool, view.reportIds),
      ]);
      const analyst = isAnalyst(principal);
      // Its cursor is that of the version that last changed this viewer's view, as in the list.
      const seen = viewedVersion(principal, row.record);
      const position = versions.find((version) => version.version === seen)?.cursor ?? row.cursor;
      return {
        alert: { ...view, cursor: cursors.seal(BigInt(position)) },
        versions: versions.flatMap((version) => {
          const shaped = viewAlertChange(principal, version.record);
          return shaped ? [{ ...shaped, cursor: cursors.seal(BigInt(version.cursor)) }] : [];
        }),
        triage: analyst
          ? { status: triage.status, assignee: triage.assignee, history: await listTriageHistory(pool, id) }
          : { status: triage.status },
        reports: reports.map((report) =>
          alertReportSchema.parse({
            id: report.id,
            organisationId: report.organisation_id,
            sector: report.sector,
            title: report.title,
            description: report.description,
            category: report.category,
            severity: report.severity,
            // A tightening since the alert's version shows as the report's label now.
            tlp: report.tlp,
            detectedAt: report.detected_at,
            receivedAt: report.received_at,
            exercise: report.exercise,
            indicators: report.indicators,
          }),
        ),
      };
    },
  );

  const triageRoute = <Body extends z.ZodType>(
    path: string,
    summary: string,
    body: Body,
    toRequest: (body: z.output<Body>) => TriageRequest,
  ) =>
    app.post(
      `/v1/alerts/:id/${path}`,
      {
        schema: {
          summary,
          description:
            'Analysts only. Stored, audited and pushed to every analyst as an `alert-update` frame, in one transaction.',
          tags: ['triage'],
          params: alertParams,
          body,
          response: {
            200: triageUpdateSchema,
            ...errorReplies(
              'RENKEI_INVALID_REQUEST',
              'RENKEI_FORBIDDEN',
              'RENKEI_NOT_FOUND',
              'RENKEI_CONFLICT',
              'RENKEI_UNAVAILABLE',
            ),
          },
        },
      },
      async (request): Promise<TriageUpdate> => {
        const principal = principalOf(request);
        requireAnyRole(principal, TRIAGE_ROLES);
        return applyTriage(pool, principal, request.params.id, toRequest(request.body as z.output<Body>));
      },
    );

  triageRoute(
    'status',
    'Move an alert to another triage status',
    triageStatusChangeSchema,
    ({ status, note }) => ({ kind: 'status', status, note }),
  );
  triageRoute('assignee', 'Assign an alert (null unassigns)', triageAssigneeChangeSchema, ({ assignee }) => ({
    kind: 'assignee',
    assignee,
  }));
  triageRoute('notes', 'Add a note to an alert', triageNoteSchema, ({ text }) => ({ kind: 'note', text }));
}
