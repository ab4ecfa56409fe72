import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { recordAudit } from '@renkei/audit';
import { principalOf, requireAnyRole } from '@renkei/auth';
import { withTransaction, type Pool } from '@renkei/db';
import { errorReplies, type HttpServer } from '@renkei/http';
import { canonicalIndicator } from '@renkei/indicators';
import { RenkeiError } from '@renkei/runtime';
import {
  watchlistEntrySchema,
  watchlistEntrySubmissionSchema,
  type WatchlistEntryView,
} from '@renkei/schema';
import { insertWatchlistEntry, listWatchlistEntries, removeWatchlistEntry } from '../queries/watchlist.js';

const ANALYSTS = ['analyst'] as const;

/**
 * The GSOC watchlist, for analysts only; every change is audited in the same
 * transaction. A new entry raises a `watchlist-match` alert from any report
 * that carries it, and from those already stored within the window.
 */
export function watchlistRoutes(app: HttpServer, { pool }: { pool: Pool }): void {
  app.post(
    '/v1/watchlist',
    {
      schema: {
        summary: 'Watch for an indicator',
        description:
          'Reports carrying it (in canonical form) raise one watchlist-match alert per entry, even from one organisation; reports stored within the window before it are matched too.',
        tags: ['watchlist'],
        body: watchlistEntrySubmissionSchema,
        response: {
          201: watchlistEntrySchema,
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_FORBIDDEN', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, ANALYSTS);
      const body = request.body;
      const canonical = canonicalIndicator(body.type, body.value);
      // The schema has checked it; this only narrows the type.
      if (!canonical.ok) throw new RenkeiError('RENKEI_INVALID_REQUEST', canonical.reason);
      const entry: WatchlistEntryView = {
        id: randomUUID(),
        type: body.type,
        value: body.value,
        canonical: canonical.indicator,
        note: body.note,
        expiresAt: body.expiresAt ? new Date(body.expiresAt).toISOString() : null,
        createdBy: principal.subject,
        createdAt: new Date().toISOString(),
      };
      const stored = await withTransaction(pool, async (db) => {
        const inserted = await insertWatchlistEntry(db, entry);
        await recordAudit(db, {
          kind: 'watchlist.added',
          actor: principal.subject,
          organisationId: principal.organisationId,
          object: inserted.id,
          outcome: 'success',
          details: { type: inserted.canonical.type, value: inserted.canonical.value },
        });
        return inserted;
      });
      return reply.status(201).send(stored);
    },
  );

  app.get(
    '/v1/watchlist',
    {
      schema: {
        summary: 'The watchlist (entries not removed, newest first)',
        tags: ['watchlist'],
        response: {
          200: z.strictObject({ items: z.array(watchlistEntrySchema) }),
          ...errorReplies('RENKEI_FORBIDDEN', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request) => {
      requireAnyRole(principalOf(request), ANALYSTS);
      return { items: await listWatchlistEntries(pool) };
    },
  );

  app.delete(
    '/v1/watchlist/:id',
    {
      schema: {
        summary: 'Stop watching: reports received from now on no longer match',
        tags: ['watchlist'],
        params: z.object({ id: z.uuid() }),
        response: {
          204: z.null(),
          ...errorReplies(
            'RENKEI_INVALID_REQUEST',
            'RENKEI_FORBIDDEN',
            'RENKEI_NOT_FOUND',
            'RENKEI_UNAVAILABLE',
          ),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, ANALYSTS);
      const { id } = request.params;
      await withTransaction(pool, async (db) => {
        const removed = await removeWatchlistEntry(db, id, principal.subject);
        if (!removed) throw new RenkeiError('RENKEI_NOT_FOUND', `no watchlist entry ${id}`);
        await recordAudit(db, {
          kind: 'watchlist.removed',
          actor: principal.subject,
          organisationId: principal.organisationId,
          object: id,
          outcome: 'success',
          details: { type: removed.canonical.type, value: removed.canonical.value },
        });
      });
      return reply.status(204).send(null);
    },
  );
}
