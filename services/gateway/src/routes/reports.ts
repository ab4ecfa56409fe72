import { z } from 'zod';
import { principalOf } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { errorReplies, type HttpServer } from '@renkei/http';
import { myReportPageSchema, type MyReportPage } from '@renkei/schema';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** `nextBefore` of the previous page: older reports. */
  before: z.iso.datetime({ offset: true }).optional(),
});

interface Row {
  id: string;
  title: string;
  category: string;
  severity: string;
  tlp: string;
  exercise: boolean;
  received_at: string;
  processed_at: string | null;
}

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
      // Only reports Kafka holds: a pending row may still be refused.
      const { rows } = await pool.query<Row>(
        `SELECT s.id, s.envelope->'report'->>'title' AS title, s.envelope->'report'->>'category' AS category,
                s.envelope->'report'->>'severity' AS severity, s.envelope->'report'->>'tlp' AS tlp,
                coalesce((s.envelope->'report'->>'exercise')::boolean, false) AS exercise,
                s.received_at, r.processed_at
           FROM report_submissions s
           LEFT JOIN reports r ON r.id = s.id
          WHERE s.organisation_id = $1 AND s.state = 'accepted'
            AND ($2::timestamptz IS NULL OR s.received_at < $2)
          ORDER BY s.received_at DESC, s.id DESC
          LIMIT $3`,
        [principal.organisationId, before ?? null, limit],
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
      }));
      return myReportPageSchema.parse({
        items,
        nextBefore: rows.length === limit ? items.at(-1)!.receivedAt : null,
      });
    },
  );
}
