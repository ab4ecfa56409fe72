import { z } from 'zod';
import { principalOf } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { errorReplies, type HttpServer } from '@renkei/http';
import { isAnalyst, TLP_SHARED_WITH_EVERYONE, viewAlert } from '@renkei/policy';
import { alertPageSchema, cursorSchema, type AlertPage } from '@renkei/schema';
import { listAlertsBefore } from '../queries/alerts.js';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** A cursor from a previous page's `nextBefore`. */
  before: cursorSchema.optional(),
});

/** `GET /v1/alerts`: the alerts the caller may see, newest first, by cursor. */
export function alertRoutes(app: HttpServer, { pool }: { pool: Pool }): void {
  app.get(
    '/v1/alerts',
    {
      schema: {
        summary: 'Alerts the caller may see, newest first',
        tags: ['alerts'],
        querystring: listQuery,
        response: { 200: alertPageSchema, ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_UNAVAILABLE') },
      },
    },
    async (request): Promise<AlertPage> => {
      const principal = principalOf(request);
      const { limit, before } = request.query;
      const rows = await listAlertsBefore(pool, {
        before,
        tlps: isAnalyst(principal) ? null : TLP_SHARED_WITH_EVERYONE,
        limit,
      });
      const items = rows.flatMap((row) => {
        const view = viewAlert(principal, row.record);
        return view ? [{ ...view, cursor: row.cursor }] : [];
      });
      return { items, nextBefore: rows.length === limit ? rows.at(-1)!.cursor : null };
    },
  );
}
