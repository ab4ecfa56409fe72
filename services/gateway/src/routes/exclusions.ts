import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { recordAudit } from '@renkei/audit';
import { principalOf, requireAnyRole } from '@renkei/auth';
import { withTransaction, type Pool } from '@renkei/db';
import { errorReplies, type HttpServer } from '@renkei/http';
import { canonicalCidr, canonicalIndicator } from '@renkei/indicators';
import { RenkeiError } from '@renkei/runtime';
import { exclusionSchema, exclusionSubmissionSchema, type ExclusionView } from '@renkei/schema';
import { insertExclusion, listExclusions, removeExclusion } from '../queries/exclusions.js';

const ANALYSTS = ['analyst'] as const;

/**
 * Local warning-list entries, for analysts only, each change audited in the
 * same transaction. Applied like the shipped lists to reports the hub
 * receives from then on: an excluded indicator is stored, shown as
 * suppressed and never raises or joins an alert.
 */
export function exclusionRoutes(app: HttpServer, { pool }: { pool: Pool }): void {
  app.post(
    '/v1/exclusions',
    {
      schema: {
        summary: 'Exclude a value (or, for IP types, a network) from correlation',
        tags: ['exclusions'],
        body: exclusionSubmissionSchema,
        response: {
          201: exclusionSchema,
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_FORBIDDEN', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, ANALYSTS);
      const body = request.body;
      let value: string | null = null;
      let cidr: string | null = null;
      let type = body.type;
      if (body.value !== undefined) {
        const canonical = canonicalIndicator(body.type, body.value);
        if (!canonical.ok) throw new RenkeiError('RENKEI_INVALID_REQUEST', canonical.reason);
        ({ type, value } = canonical.indicator);
      } else if (body.type === 'ipv4' || body.type === 'ipv6') {
        const network = canonicalCidr(body.type, body.cidr!);
        if (!network.ok) throw new RenkeiError('RENKEI_INVALID_REQUEST', network.reason);
        cidr = network.value;
      }
      const exclusion: ExclusionView = {
        id: randomUUID(),
        type,
        value,
        cidr,
        note: body.note,
        createdBy: principal.subject,
        createdAt: new Date().toISOString(),
      };
      const stored = await withTransaction(pool, async (db) => {
        const inserted = await insertExclusion(db, exclusion);
        await recordAudit(db, {
          kind: 'exclusion.added',
          actor: principal.subject,
          organisationId: principal.organisationId,
          object: inserted.id,
          outcome: 'success',
          details: { type: inserted.type, value: inserted.value, cidr: inserted.cidr },
        });
        return inserted;
      });
      return reply.status(201).send(stored);
    },
  );

  app.get(
    '/v1/exclusions',
    {
      schema: {
        summary: 'Local exclusions (not removed, newest first)',
        tags: ['exclusions'],
        response: {
          200: z.strictObject({ items: z.array(exclusionSchema) }),
          ...errorReplies('RENKEI_FORBIDDEN', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request) => {
      requireAnyRole(principalOf(request), ANALYSTS);
      return { items: await listExclusions(pool) };
    },
  );

  app.delete(
    '/v1/exclusions/:id',
    {
      schema: {
        summary: 'Remove a local exclusion: reports received from now on correlate again',
        tags: ['exclusions'],
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
        const removed = await removeExclusion(db, id, principal.subject);
        if (!removed) throw new RenkeiError('RENKEI_NOT_FOUND', `no exclusion ${id}`);
        await recordAudit(db, {
          kind: 'exclusion.removed',
          actor: principal.subject,
          organisationId: principal.organisationId,
          object: id,
          outcome: 'success',
          details: { type: removed.type, value: removed.value, cidr: removed.cidr },
        });
      });
      return reply.status(204).send(null);
    },
  );
}
