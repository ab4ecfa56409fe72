import { z } from 'zod';
import { principalOf } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { errorReplies, type HttpServer } from '@renkei/http';
import { reportInSearch, searchScope } from '@renkei/policy';
import { RenkeiError } from '@renkei/runtime';
import {
  myReportPageSchema,
  readableReportSchema,
  type MyReportPage,
  type ReadableReport,
  type Tlp,
} from '@renkei/schema';
import { findReadableReport, listOwnReports } from '../queries/reports.js';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** `nextBefore` of the previous page (the id of its last report): older reports. */
  before: z.uuid().optional(),
  /** `latest` (default): a report a later version of its source replaced is left out; `all`: every version. */
  versions: z.enum(['latest', 'all']).default('latest'),
});

/**
 * `GET /v1/reports`: the caller's own organisation's reports, newest first,
 * each with where it stands (`accepted` by ingest, then `processed`), the
 * latest version of each source unless `versions=all`; where
 * one submission stands stays on ingest (`GET /v1/reports/:id` there).
 * `GET /v1/reports/:id` here: one stored report as the viewer may read it in
 * a search (the console's report page, reached from search and alerts).
 */
export function reportListRoutes(app: HttpServer, { pool }: { pool: Pool }): void {
  app.get(
    '/v1/reports',
    {
      schema: {
        summary: "The caller's organisation's reports, newest first, with their status",
        tags: ['reports'],
        querystring: listQuery,
        response: {
          200: myReportPageSchema,
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request): Promise<MyReportPage> => {
      const principal = principalOf(request);
      const { limit, before, versions } = request.query;
      const rows = await listOwnReports(
        pool,
        principal.organisationId,
        before ?? null,
        limit,
        versions === 'all',
      );
      const items = rows.map((row) => ({
        id: row.id,
        title: row.title,
        category: row.category,
        severity: row.severity,
        tlp: row.tlp,
        exercise: row.exercise,
        status: row.processed_at ? ('processed' as const) : ('accepted' as const),
        receivedAt: row.received_at,
        processedAt: row.processed_at,
        supersededBy: row.superseded_by,
      }));
      return myReportPageSchema.parse({
        items,
        nextBefore: rows.length === limit ? items.at(-1)!.id : null,
      });
    },
  );

  app.get(
    '/v1/reports/:id',
    {
      schema: {
        summary:
          'One stored report as the caller may read it (its own named, others’ CLEAR and GREEN without names)',
        description:
          'Analysts read every report, named. Other callers read their own organisation’s reports and other ' +
          'organisations’ CLEAR and GREEN ones without the organisation; any other report is answered as one ' +
          'that does not exist. The label is the report’s label now (after any tightening).',
        tags: ['reports'],
        params: z.object({ id: z.uuid() }),
        response: {
          200: readableReportSchema,
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_NOT_FOUND', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request): Promise<ReadableReport> => {
      const viewer = principalOf(request);
      const { id } = request.params;
      const row = await findReadableReport(pool, id, searchScope(viewer));
      // The statement already kept only what the scope admits; the policy says how it is shown.
      const presence =
        row &&
        reportInSearch(
          viewer,
          { organisationId: row.organisation_id, tlp: row.tlp as Tlp },
          {
            viewerReportedIt: false,
          },
        );
      if (!row || (presence !== 'named' && presence !== 'anonymised'))
        throw new RenkeiError('RENKEI_NOT_FOUND', `no report ${id}`);
      return readableReportSchema.parse({
        id: row.id,
        organisationId: presence === 'named' ? row.organisation_id : null,
        sector: row.sector,
        title: row.title,
        description: row.description,
        category: row.category,
        severity: row.severity,
        tlp: row.tlp,
        detectedAt: row.detected_at,
        receivedAt: row.received_at,
        exercise: row.exercise,
        labels: row.labels ?? [],
        supersededBy: row.superseded_by ?? null,
        indicators: row.indicators,
      });
    },
  );
}
