import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { recordAudit } from '@renkei/audit';
import { principalOf, requireAnyRole } from '@renkei/auth';
import { withTransaction, type Pool } from '@renkei/db';
import { errorReplies, invalidField, type HttpServer } from '@renkei/http';
import {
  deleteFeed,
  findFeed,
  insertFeed,
  listFeeds,
  requestSync,
  sealCredentials,
} from '@renkei/partner-feeds';
import type { OrganisationRegistry } from '@renkei/registry';
import { RenkeiError } from '@renkei/runtime';
import {
  partnerFeedListSchema,
  partnerFeedSchema,
  partnerFeedSubmissionSchema,
  partnerFeedSyncAnswerSchema,
} from '@renkei/schema';

const idParams = z.object({ id: z.uuid() });

/** What a route on one feed may answer besides its success. */
const oneFeedErrors = errorReplies(
  'RENKEI_INVALID_REQUEST',
  'RENKEI_FORBIDDEN',
  'RENKEI_NOT_FOUND',
  'RENKEI_RATE_LIMITED',
  'RENKEI_UNAVAILABLE',
);

export interface FeedRouteDeps {
  pool: Pool;
  registry: Pick<OrganisationRegistry, 'get'>;
  /** `deriveHubKey(secret, CREDENTIALS_KEY_PURPOSE)`: seals credentials so that only the hub's ingest opens them. */
  credentialsKey: Uint8Array;
}

/**
 * Partner feeds (issue 21, item 7): administrators register the TAXII 2.1
 * collections and MISP feeds the hub pulls, here on the gateway with the
 * registry and every other administrator's route; ingest polls them (it alone
 * may write the reports topic) and records where each stands, which
 * `GET /v1/feeds` shows. Credentials go in sealed and never come out: the
 * list says only that they are set. Adding, removing and asking for a sync
 * are audited in the transaction that does them.
 */
export function feedRoutes(app: HttpServer, deps: FeedRouteDeps): void {
  const { pool } = deps;

  app.get(
    '/v1/feeds',
    {
      schema: {
        summary: 'Partner feeds and where each poll stands: lag, errors, checkpoint (administrators)',
        tags: ['feeds'],
        response: { 200: partnerFeedListSchema, ...errorReplies('RENKEI_FORBIDDEN', 'RENKEI_UNAVAILABLE') },
      },
    },
    async (request) => {
      requireAnyRole(principalOf(request), ['admin']);
      return { items: (await listFeeds(pool)).map((feed) => feed.view) };
    },
  );

  app.post(
    '/v1/feeds',
    {
      schema: {
        summary: 'Register a partner feed: a TAXII 2.1 collection or a MISP feed (administrators)',
        description:
          "The feed's data is imported as the partner organisation's reports, through the same import as a push, " +
          'with `defaultTlp` declared for what it leaves unmarked (stricter markings inside win). Credentials are ' +
          'stored sealed and never answered. The first poll starts at once.',
        tags: ['feeds'],
        body: partnerFeedSubmissionSchema,
        response: {
          201: partnerFeedSchema,
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
      requireAnyRole(principal, ['admin']);
      const body = request.body;
      const organisation = deps.registry.get(body.organisationId);
      if (!organisation)
        throw invalidField('organisationId', `no organisation ${body.organisationId} is registered`);
      const id = randomUUID();
      const feed = await withTransaction(pool, async (db) => {
        await insertFeed(db, {
          id,
          kind: body.kind,
          name: body.name,
          url: body.url,
          organisationId: body.organisationId,
          defaultTlp: body.defaultTlp,
          pollIntervalSeconds: body.pollIntervalSeconds,
          sealedCredentials: body.credentials
            ? sealCredentials(deps.credentialsKey, id, body.credentials)
            : null,
          credentialsKind: body.credentials?.kind ?? null,
          createdBy: principal.subject,
        });
        await recordAudit(db, {
          kind: 'feed.added',
          actor: principal.subject,
          organisationId: principal.organisationId,
          object: id,
          outcome: 'success',
          // Never the credentials: only whether there are any.
          details: {
            kind: body.kind,
            name: body.name,
            url: body.url,
            partner: body.organisationId,
            defaultTlp: body.defaultTlp,
            pollIntervalSeconds: body.pollIntervalSeconds,
            credentials: body.credentials?.kind ?? null,
          },
        });
        return findFeed(db, id);
      });
      return reply.status(201).send(feed!.view);
    },
  );

  app.delete(
    '/v1/feeds/:id',
    {
      schema: {
        summary: 'Remove a partner feed and its checkpoint; the reports it brought stay (administrators)',
        tags: ['feeds'],
        params: idParams,
        response: {
          204: z.null(),
          ...oneFeedErrors,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, ['admin']);
      const { id } = request.params;
      await withTransaction(pool, async (db) => {
        const feed = await findFeed(db, id);
        if (!feed || !(await deleteFeed(db, id))) throw new RenkeiError('RENKEI_NOT_FOUND', `no feed ${id}`);
        await recordAudit(db, {
          kind: 'feed.removed',
          actor: principal.subject,
          organisationId: principal.organisationId,
          object: id,
          outcome: 'success',
          details: {
            kind: feed.view.kind,
            name: feed.view.name,
            url: feed.view.url,
            partner: feed.view.organisationId,
          },
        });
      });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/feeds/:id/sync',
    {
      schema: {
        summary: 'Poll a partner feed now (administrators); `GET /v1/feeds` shows when it is done',
        tags: ['feeds'],
        params: idParams,
        response: {
          202: partnerFeedSyncAnswerSchema,
          ...oneFeedErrors,
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, ['admin']);
      const { id } = request.params;
      const requestedAt = await withTransaction(pool, async (db) => {
        const at = await requestSync(db, id);
        if (at === undefined) throw new RenkeiError('RENKEI_NOT_FOUND', `no feed ${id}`);
        await recordAudit(db, {
          kind: 'feed.sync-requested',
          actor: principal.subject,
          organisationId: principal.organisationId,
          object: id,
          outcome: 'success',
        });
        return at;
      });
      return reply.status(202).send({ id, requestedAt });
    },
  );
}
