import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { recordAudit } from '@renkei/audit';
import { principalOf, requireAnyRole, type Sealer } from '@renkei/auth';
import { withTransaction, type Pool } from '@renkei/db';
import { appendToFeed } from '@renkei/feed';
import { errorReplies, invalidField, type HttpServer } from '@renkei/http';
import { canonicalIndicator } from '@renkei/indicators';
import { isAnalyst, isWarningRecipient, viewWarning, warningSectorFilter, type Viewer } from '@renkei/policy';
import { organisationsInSectors } from '@renkei/registry';
import { RenkeiError } from '@renkei/runtime';
import {
  cursorSchema,
  warningAckSchema,
  warningDetailSchema,
  warningPageSchema,
  warningSubmissionSchema,
  warningViewSchema,
  type AlertIndicator,
  type WarningReceipt,
  type WarningRecord,
} from '@renkei/schema';
import {
  acknowledge,
  acknowledgementsOf,
  findWarning,
  insertWarning,
  listWarnings,
} from '../queries/warnings.js';
import { opened } from '../cursors.js';
import { warningDeliveries } from '../delivery/queries.js';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: cursorSchema.optional(),
});

const idParams = z.object({ id: z.uuid() });

/**
 * Shared warnings (注意喚起): analysts publish them to sectors; recipients
 * (`reporter` and `ceptar` users of those sectors) receive them live, list
 * them and acknowledge them once per organisation. Everyone else gets 404.
 */
export function warningRoutes(
  app: HttpServer,
  { pool, warningCursors }: { pool: Pool; warningCursors: Sealer },
): void {
  app.post(
    '/v1/warnings',
    {
      schema: {
        summary: 'Publish a shared warning to sectors (analysts)',
        description:
          'Stored and pushed live in one transaction: `{"type":"warning",…}` to recipients of the targeted sectors and to analysts.',
        tags: ['warnings'],
        body: warningSubmissionSchema,
        response: {
          201: warningViewSchema,
          ...errorReplies(
            'RENKEI_INVALID_REQUEST',
            'RENKEI_FORBIDDEN',
            'RENKEI_RATE_LIMITED',
            'RENKEI_UNAVAILABLE',
          ),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, ['analyst']);
      const { body } = request;
      const record: WarningRecord = {
        id: randomUUID(),
        title: body.title,
        body: body.body,
        severity: body.severity,
        tlp: body.tlp,
        sectors: body.sectors === 'all' ? 'all' : [...new Set(body.sectors)].sort(),
        indicators: canonicalIndicators(body.indicators),
        alertIds: [...new Set(body.alertIds)],
        publishedAt: new Date().toISOString(),
        publishedBy: principal.subject,
        exercise: body.exercise,
      };
      await withTransaction(pool, async (db) => {
        await insertWarning(db, record);
        await appendToFeed(db, [{ kind: 'warning', payload: record }]);
        await recordAudit(db, {
          kind: 'warning.published',
          actor: principal.subject,
          organisationId: principal.organisationId,
          object: record.id,
          outcome: 'success',
          details: { sectors: record.sectors, tlp: record.tlp, exercise: record.exercise },
        });
      });
      request.log.info({ warningId: record.id, sectors: record.sectors }, 'warning published');
      return reply.status(201).send(viewWarning(principal, record)!);
    },
  );

  app.get(
    '/v1/warnings',
    {
      schema: {
        summary: "The caller's warnings, newest first: a recipient's inbox, or every warning for analysts",
        tags: ['warnings'],
        querystring: listQuery,
        response: { 200: warningPageSchema, ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_UNAVAILABLE') },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const filter = warningSectorFilter(principal);
      if (filter === 'none') return { items: [], nextBefore: null };
      const { limit } = request.query;
      // Sealed: the inbox's own order numbers would count the warnings other sectors got in between.
      const before = opened(warningCursors, 'before', request.query.before);
      const rows = await listWarnings(pool, {
        sector: filter === 'all' ? null : filter.sector,
        before,
        limit,
      });
      // SQL reads exactly the viewer's inbox (`warningSectorFilter`), so every row is one it receives.
      const items = rows.flatMap((row) => {
        const view = viewWarning(principal, row.record);
        return view ? [{ ...view, cursor: warningCursors.seal(BigInt(row.cursor)) }] : [];
      });
      return { items, nextBefore: items.length === limit ? items.at(-1)!.cursor : null };
    },
  );

  app.get(
    '/v1/warnings/:id',
    {
      schema: {
        summary:
          'One warning; for analysts with who acknowledged it, who has not yet, and whom webhooks and e-mail reached',
        tags: ['warnings'],
        params: idParams,
        response: {
          200: warningDetailSchema,
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_NOT_FOUND', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { record, view } = await visibleWarning(pool, principal, request.params.id);
      const acknowledgements = await acknowledgementsOf(pool, record.id);
      if (isAnalyst(principal)) {
        const targeted = await organisationsInSectors(pool, record.sectors === 'all' ? null : record.sectors);
        const acknowledged = new Set(acknowledgements.map((ack) => ack.organisationId));
        const delivered = await warningDeliveries(pool, record.id);
        const organisations = [
          ...new Set([...targeted.map((o) => o.id), ...delivered.keys(), ...acknowledged]),
        ].sort();
        const receipts: WarningReceipt[] = organisations.map((organisationId) => ({
          organisationId,
          delivered: delivered.get(organisationId)?.delivered ?? null,
          failing: delivered.get(organisationId)?.failing ?? false,
          acknowledgedAt: acknowledgements.find((ack) => ack.organisationId === organisationId)?.at ?? null,
        }));
        return {
          ...view,
          acknowledgedBy: acknowledgements,
          pendingOrganisations: targeted.map((o) => o.id).filter((id) => !acknowledged.has(id)),
          receipts,
        };
      }
      const own = acknowledgements.find((ack) => ack.organisationId === principal.organisationId);
      return { ...view, acknowledgedAt: own?.at ?? null };
    },
  );

  app.post(
    '/v1/warnings/:id/ack',
    {
      schema: {
        summary: "Acknowledge a warning for the caller's organisation (recipients); repeats change nothing",
        description: 'Analysts receive each first acknowledgement live as `{"type":"warning-ack",…}`.',
        tags: ['warnings'],
        params: idParams,
        response: {
          200: warningAckSchema,
          ...errorReplies(
            'RENKEI_INVALID_REQUEST',
            'RENKEI_FORBIDDEN',
            'RENKEI_NOT_FOUND',
            'RENKEI_RATE_LIMITED',
            'RENKEI_UNAVAILABLE',
          ),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { record } = await visibleWarning(pool, principal, request.params.id);
      if (!isWarningRecipient(principal)) {
        throw new RenkeiError('RENKEI_FORBIDDEN', 'only recipients (reporter, ceptar) acknowledge warnings');
      }
      return withTransaction(pool, async (db) => {
        const { ack, created } = await acknowledge(db, {
          warningId: record.id,
          organisationId: principal.organisationId,
          by: principal.subject,
        });
        if (created) {
          await appendToFeed(db, [{ kind: 'warning-ack', payload: ack }]);
          await recordAudit(db, {
            kind: 'warning.acknowledged',
            actor: principal.subject,
            organisationId: principal.organisationId,
            object: record.id,
            outcome: 'success',
          });
        }
        return ack;
      });
    },
  );
}

/** The warning as the caller may see it; 404 (audited when it exists) otherwise. */
async function visibleWarning(pool: Pool, principal: Viewer, id: string) {
  const record = await findWarning(pool, id);
  const view = record && viewWarning(principal, record);
  if (!record || !view) {
    if (record) {
      await recordAudit(pool, {
        kind: 'access.denied',
        actor: principal.subject,
        organisationId: principal.organisationId,
        object: id,
        outcome: 'denied',
        details: { what: 'warning' },
      });
    }
    throw new RenkeiError('RENKEI_NOT_FOUND', `no warning ${id}`);
  }
  return { record, view };
}

function canonicalIndicators(
  indicators: readonly { type: AlertIndicator['type']; value: string }[],
): AlertIndicator[] {
  const seen = new Map<string, AlertIndicator>();
  for (const [index, indicator] of indicators.entries()) {
    // The same canonical form as a report's: a warning's indicators match what correlates.
    const read = canonicalIndicator(indicator.type, indicator.value);
    if (!read.ok) throw invalidField(`indicators[${index}].value`, read.reason);
    const { type, value } = read.indicator;
    seen.set(`${type}\u0000${value}`, { type, value });
  }
  return [...seen.values()];
}
