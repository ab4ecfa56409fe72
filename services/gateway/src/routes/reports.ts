import { z } from 'zod';
import { principalOf } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { errorReplies, type HttpServer } from '@renkei/http';
import { myReportPageSchema, type MyReportPage } from '@renkei/schema';
import { listOwnReports } from '../queries/reports.js';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** `nextBefore` of the previous page (the id of its last report): older reports. */
  before: z.uuid().optional(),
});

/**
 * `GET /v1/reports`: the caller's own organisation's reports, newest first,
 * each with where it stands (`accepted` by ingest, then `processed`). The
 * detail of one stays on ingest (`GET /v1/reports/:id`), where it was sent.
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
      const { limit, before } = request.query;
      const rows = await listOwnReports(pool, principal.organisationId, before ?? null, limit);
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
      }));
      return myReportPageSchema.parse({
        items,
        nextBefore: rows.length === limit ? items.at(-1)!.id : null,
      });
    },
  );
}
