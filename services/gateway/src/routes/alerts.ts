import { z } from 'zod';
import { principalOf } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { errorReplies, type HttpServer } from '@renkei/http';
import { alertTlpsFor, seesEveryVersion, viewAlert, viewedVersion } from '@renkei/policy';
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
        tlps: alertTlpsFor(principal),
        latestOnly: seesEveryVersion(principal),
        limit,
      });
      // Each alert appears once, at the version that last changed this viewer's view:
      // a version the viewer may not know of neither moves it nor changes its cursor.
      const items = rows.flatMap((row) => {
        if (viewedVersion(principal, row.record) !== row.version) return [];
        const view = viewAlert(principal, row.record);
        return view ? [{ ...view, cursor: row.cursor }] : [];
      });
      return { items, nextBefore: rows.length === limit ? rows.at(-1)!.cursor : null };
    },
  );
}
