import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { recordAudit } from '@renkei/audit';
import { principalOf, requireAnyRole } from '@renkei/auth';
import { withTransaction, type Pool } from '@renkei/db';
import { newWebhookSecret } from '@renkei/delivery';
import { errorReplies, invalidField, type HttpServer } from '@renkei/http';
import { RenkeiError } from '@renkei/runtime';
import {
  createdDeliveryEndpointSchema,
  deliveryAttemptSchema,
  deliveryEndpointSchema,
  deliveryEndpointSubmissionSchema,
  deliveryLanguageSchema,
  deliveryStatusSchema,
  organisationIdSchema,
  type DeliveryLanguage,
  type Principal,
} from '@renkei/schema';
import {
  deleteEndpoint,
  deliveryLog,
  findEndpoint,
  insertEndpoint,
  listEndpoints,
  publicEndpoint,
  type StoredEndpoint,
} from '../delivery/queries.js';
import { refusedWebhookUrl } from '../delivery/webhook.js';
import { sendTestMessage, type DeliveryChannels } from '../delivery/worker.js';

/**
 * Who manages an organisation's endpoints: its own members (`reporter`,
 * `ceptar`: the hub has no finer role inside a member organisation) and the
 * GSOC's administrators, for any organisation.
 */
const MANAGERS = ['reporter', 'ceptar', 'admin'] as const;

const isAdmin = (principal: Principal) => principal.roles.includes('admin');

const idParams = z.object({ id: z.uuid() });

export interface DeliveryRouteDeps {
  pool: Pool;
  channels: DeliveryChannels;
}

/**
 * Delivery endpoints (issue 24): a signed webhook or an e-mail list per
 * organisation, sent the organisation's view of new warnings and alerts by
 * the gateway's delivery worker.
 */
export function deliveryRoutes(app: HttpServer, { pool, channels }: DeliveryRouteDeps): void {
  /** The endpoint if the caller may manage it; 404 (audited when it exists) otherwise. */
  const manageable = async (principal: Principal, id: string): Promise<StoredEndpoint> => {
    requireAnyRole(principal, MANAGERS);
    const endpoint = await findEndpoint(pool, id);
    if (endpoint && (isAdmin(principal) || endpoint.organisationId === principal.organisationId))
      return endpoint;
    if (endpoint) {
      await recordAudit(pool, {
        kind: 'access.denied',
        actor: principal.subject,
        organisationId: principal.organisationId,
        object: id,
        outcome: 'denied',
        details: { what: 'delivery endpoint' },
      });
    }
    throw new RenkeiError('RENKEI_NOT_FOUND', `no delivery endpoint ${id}`);
  };

  app.post(
    '/v1/deliveries',
    {
      schema: {
        summary: "Add a delivery endpoint for the caller's organisation: a signed webhook or an e-mail list",
        description:
          'A webhook must be an https:// URL whose host resolves to public addresses only (unless the operator ' +
          'allow-listed it); its signing secret is in this answer and never shown again. Requests carry ' +
          '`Renkei-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">` and `Renkei-Delivery: <id>`.',
        tags: ['deliveries'],
        body: deliveryEndpointSubmissionSchema,
        response: {
          201: createdDeliveryEndpointSchema,
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
      requireAnyRole(principal, MANAGERS);
      const { body } = request;
      const organisationId = body.organisationId ?? principal.organisationId;
      if (organisationId !== principal.organisationId && !isAdmin(principal)) {
        throw invalidField(
          'organisationId',
          "only GSOC administrators manage another organisation's endpoints",
        );
      }
      const known = await pool.query('SELECT 1 FROM organisations WHERE id = $1', [organisationId]);
      if (known.rowCount === 0) throw invalidField('organisationId', `no organisation ${organisationId}`);
      let url: string | null = null;
      if (body.channel === 'webhook') {
        const refusal = await refusedWebhookUrl(body.url, channels.guard);
        if (refusal) throw invalidField('url', refusal);
        url = new URL(body.url).toString();
      } else if (!channels.mailer) {
        throw invalidField('channel', 'e-mail delivery is not configured on this hub (DELIVERY_SMTP_URL)');
      }
      const secret = body.channel === 'webhook' ? newWebhookSecret() : null;
      const stored = await withTransaction(pool, async (db) => {
        const endpoint = await insertEndpoint(db, {
          id: randomUUID(),
          organisationId,
          channel: body.channel,
          url,
          secret,
          addresses:
            body.channel === 'email' ? [...new Set(body.addresses.map((a) => a.toLowerCase()))] : null,
          send: body.send,
          createdBy: principal.subject,
        });
        await recordAudit(db, {
          kind: 'delivery.created',
          actor: principal.subject,
          organisationId: principal.organisationId,
          object: endpoint.id,
          outcome: 'success',
          // Never the secret; the URL's host is enough to find it again.
          details: {
            organisation: organisationId,
            channel: endpoint.channel,
            ...(url ? { host: new URL(url).host } : { addresses: endpoint.addresses?.length }),
          },
        });
        return endpoint;
      });
      request.log.info(
        { endpointId: stored.id, organisationId, channel: stored.channel },
        'delivery endpoint added',
      );
      return reply.status(201).send({ ...publicEndpoint(stored), secret });
    },
  );

  app.get(
    '/v1/deliveries',
    {
      schema: {
        summary:
          "The caller's organisation's delivery endpoints (administrators: every one, or one organisation's)",
        tags: ['deliveries'],
        querystring: z.object({ organisationId: organisationIdSchema.optional() }),
        response: {
          200: z.strictObject({ items: z.array(deliveryEndpointSchema) }),
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_FORBIDDEN', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      requireAnyRole(principal, MANAGERS);
      const asked = request.query.organisationId;
      if (asked && asked !== principal.organisationId && !isAdmin(principal)) {
        throw invalidField(
          'organisationId',
          "only GSOC administrators read another organisation's endpoints",
        );
      }
      const organisationId = asked ?? (isAdmin(principal) ? null : principal.organisationId);
      return { items: (await listEndpoints(pool, organisationId)).map(publicEndpoint) };
    },
  );

  app.delete(
    '/v1/deliveries/:id',
    {
      schema: {
        summary: 'Remove a delivery endpoint; what it still had to deliver is not sent',
        tags: ['deliveries'],
        params: idParams,
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
      const endpoint = await manageable(principal, request.params.id);
      await withTransaction(pool, async (db) => {
        if (!(await deleteEndpoint(db, endpoint.id, principal.subject))) {
          throw new RenkeiError('RENKEI_NOT_FOUND', `no delivery endpoint ${endpoint.id}`);
        }
        await recordAudit(db, {
          kind: 'delivery.deleted',
          actor: principal.subject,
          organisationId: principal.organisationId,
          object: endpoint.id,
          outcome: 'success',
          details: { organisation: endpoint.organisationId, channel: endpoint.channel },
        });
      });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/deliveries/:id/test',
    {
      schema: {
        summary: 'Send a test message to the endpoint now, once; the answer says how it went',
        description:
          'A webhook receives `{"type":"test",…}`, signed like every request. Logged like any delivery.',
        tags: ['deliveries'],
        params: idParams,
        response: {
          200: z.strictObject({
            deliveryId: z.uuid(),
            ok: z.boolean(),
            statusCode: z.number().int().nullable(),
            latencyMs: z.number().int(),
            error: z.string().nullable(),
          }),
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
      const endpoint = await manageable(principal, request.params.id);
      const { rows } = await pool.query<{ language: DeliveryLanguage }>(
        'SELECT language FROM organisations WHERE id = $1',
        [endpoint.organisationId],
      );
      const language = deliveryLanguageSchema.catch('ja').parse(rows[0]?.language);
      const { deliveryId, outcome } = await sendTestMessage(pool, channels, endpoint, language);
      await recordAudit(pool, {
        kind: 'delivery.tested',
        actor: principal.subject,
        organisationId: principal.organisationId,
        object: endpoint.id,
        outcome: outcome.ok ? 'success' : 'failure',
        details: { deliveryId, statusCode: outcome.statusCode },
      });
      return {
        deliveryId,
        ok: outcome.ok,
        statusCode: outcome.statusCode,
        latencyMs: outcome.latencyMs,
        error: outcome.error,
      };
    },
  );

  app.get(
    '/v1/deliveries/:id/log',
    {
      schema: {
        summary: "The endpoint's latest deliveries and attempts (status codes, latency), newest first",
        tags: ['deliveries'],
        params: idParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
        response: {
          200: z.strictObject({
            endpoint: deliveryEndpointSchema,
            deliveries: z.array(deliveryStatusSchema),
            attempts: z.array(deliveryAttemptSchema),
          }),
          ...errorReplies(
            'RENKEI_INVALID_REQUEST',
            'RENKEI_FORBIDDEN',
            'RENKEI_NOT_FOUND',
            'RENKEI_UNAVAILABLE',
          ),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const endpoint = await manageable(principal, request.params.id);
      return {
        endpoint: publicEndpoint(endpoint),
        ...(await deliveryLog(pool, endpoint.id, request.query.limit)),
      };
    },
  );
}
