import { Readable } from 'node:stream';
import { z } from 'zod';
import { readAuditExport, type ExportedEntry } from '@renkei/audit';
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

const exportQuery = z
  .object({
    /** Entries at or after this time. */
    since: z.iso.datetime({ offset: true }).optional(),
    /** Entries before this time. */
    until: z.iso.datetime({ offset: true }).optional(),
  })
  .refine(({ since, until }) => !since || !until || Date.parse(until) > Date.parse(since), {
    path: ['until'],
    message: 'must be after since',
  });

export const AUDIT_EXPORT_MEDIA_TYPE = 'application/x-ndjson';

/** One line of `GET /v1/audit/export`: an entry with every field its chain hash covers, and its place. */
export const auditExportLineSchema = auditEventSchema.extend({
  /** With microseconds, as hashed (`GET /v1/audit` shows milliseconds). */
  at: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
  /** Null while the entry waits to be sealed (a second or so after it was written). */
  chainSeq: z.string().nullable(),
  chainHash: z.string().nullable(),
});

/** One JSON line per entry, every key in the same order. */
function exportLine(entry: ExportedEntry): string {
  const { id, at, kind, actor, organisationId, object, outcome, details, chainSeq, chainHash } = entry;
  return `${JSON.stringify({ id, at, kind, actor, organisationId, object, outcome, details, chainSeq, chainHash })}\n`;
}

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

  app.get(
    '/v1/audit/export',
    {
      schema: {
        summary: 'The audit log as JSON Lines, for archiving (administrators)',
        description:
          `Answered as \`${AUDIT_EXPORT_MEDIA_TYPE}\`, one entry per line with its \`chainSeq\` and \`chainHash\`: ` +
          'first the entries sealed when the export began, in chain order, then the rest by id (`chainSeq` null ' +
          'while not sealed). Filter by time (`since`, `until`). Streamed from PostgreSQL a page at a time; an ' +
          'export cut off by a fault ends without the final chunk, so the client sees an error, never a short file.',
        tags: ['audit'],
        querystring: exportQuery,
        response: {
          200: z.string().describe('JSON Lines: one `auditExportLine` per line'),
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_FORBIDDEN', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request, reply) => {
      requireAnyRole(principalOf(request), ['admin']);
      const { since, until } = request.query;
      const pages = readAuditExport(pool, { since, until });
      // The first page before the status: PostgreSQL away is still a 503, not a 200 that breaks off.
      const first = await pages.next();
      async function* lines(): AsyncGenerator<string> {
        if (first.done) return;
        yield first.value.map(exportLine).join('');
        for await (const page of pages) yield page.map(exportLine).join('');
      }
      // Readable.from pulls a page only when the client has taken the last: a slow reader holds no connection.
      return reply
        .header('content-type', `${AUDIT_EXPORT_MEDIA_TYPE}; charset=utf-8`)
        .send(Readable.from(lines(), { objectMode: false }) as unknown as string);
    },
  );
}
