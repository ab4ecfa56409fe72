import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { principalOf } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { invalidRequest } from '@renkei/http';
import { isAnalyst, TLP_SHARED_WITH_EVERYONE, viewAlert } from '@renkei/policy';
import type { AlertPage, AlertRecord } from '@renkei/schema';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** A cursor from a previous page's `nextBefore`. */
  before: z
    .string()
    .regex(/^\d{1,19}$/, 'must be a cursor from nextBefore')
    .optional(),
});

/** `GET /v1/alerts`: the alerts the caller may see, newest first, by cursor. */
export function alertRoutes(app: FastifyInstance, { pool }: { pool: Pool }): void {
  app.get('/v1/alerts', async (request): Promise<AlertPage> => {
    const principal = principalOf(request);
    const query = listQuery.safeParse(request.query);
    if (!query.success) throw invalidRequest(query.error);
    const { limit, before } = query.data;

    // Filtering in SQL keeps pages full; the policy then shapes each alert.
    const { rows } = await pool.query<{ cursor: string; record: AlertRecord }>(
      `SELECT cursor, record FROM alerts
        WHERE ($1::bigint IS NULL OR cursor < $1::bigint)
          AND ($2::boolean OR tlp = ANY($3::text[]))
        ORDER BY cursor DESC
        LIMIT $4`,
      [before ?? null, isAnalyst(principal), TLP_SHARED_WITH_EVERYONE, limit],
    );
    const items = rows.flatMap((row) => {
      const view = viewAlert(principal, row.record);
      return view ? [{ ...view, cursor: row.cursor }] : [];
    });
    return { items, nextBefore: rows.length === limit ? rows.at(-1)!.cursor : null };
  });
}
