import { z } from 'zod';
import { principalOf, requireAnyRole } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { errorReplies, type HttpServer } from '@renkei/http';
import { auditEventSchema, auditKindSchema } from '@renkei/schema';
import { listAuditEvents } from '../queries/audit.js';

/**
 * An audit event's id. Administrators read the whole log, so nothing in it is
 * hidden from them and its ids (shown on every item) may serve as the cursor.
 */
const auditIdSchema = z.string().regex(/^[1-9]\d{0,18}$/, 'must be the id of an audit event');

const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** A cursor from a previous page's `nextBefore`. */
  before: auditIdSchema.optional(),
  actor: z.string().min(1).max(256).optional(),
  organisation: z.string().min(1).max(63).optional(),
  kind: auditKindSchema.optional(),
  /** Events at or after this time. */
  since: z.iso.datetime({ offset: true }).optional(),
  /** Events before this time. */
  until: z.iso.datetime({ offset: true }).optional(),
});

const auditPageSchema = z.object({
  items: z.array(auditEventSchema),
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextBefore: auditIdSchema.nullable(),
});

/** `GET /v1/audit`: the audit log for administrators, newest first, by cursor. */
export function auditRoutes(app: HttpServer, { pool }: { pool: Pool }): void {
  app.get(
    '/v1/audit',
    {
      schema: {
        summary: 'The audit log, newest first (administrators)',
        description:
          'Filter by `actor` (a token subject), `organisation`, `kind` and time (`since`, `until`).',
        tags: ['audit'],
        querystring: auditQuery,
        response: {
          200: auditPageSchema,
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_FORBIDDEN', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request) => {
      requireAnyRole(principalOf(request), ['admin']);
      const { limit, before, actor, organisation, kind, since, until } = request.query;
      const items = await listAuditEvents(pool, {
        limit,
        before,
        actor,
        organisationId: organisation,
        kind,
        since,
        until,
      });
      return { items, nextBefore: items.length === limit ? items.at(-1)!.id : null };
    },
  );
}
