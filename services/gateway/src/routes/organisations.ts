import { z } from 'zod';
import { principalOf, requireAnyRole } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { errorReplies, type HttpServer } from '@renkei/http';
import {
  changeOrganisation,
  listOrganisations,
  registerOrganisation,
  setOrganisationEnabled,
  type OrganisationRegistry,
} from '@renkei/registry';
import { RenkeiError } from '@renkei/runtime';
import {
  organisationChangeSchema,
  organisationIdSchema,
  organisationSchema,
  organisationSubmissionSchema,
} from '@renkei/schema';

const organisationListSchema = z.object({ items: z.array(organisationSchema) });

/**
 * The organisation registry. Administrators add, disable and enable
 * organisations (each change audited); analysts may read it, since they see
 * reports named anyway. A change applies to this process at once and to
 * every other within a notification (or `REGISTRY_POLL_MS`).
 */
export function organisationRoutes(
  app: HttpServer,
  { pool, registry }: { pool: Pool; registry: OrganisationRegistry },
): void {
  app.get(
    '/v1/organisations',
    {
      schema: {
        summary: 'Every registered organisation (administrators and analysts)',
        tags: ['organisations'],
        response: { 200: organisationListSchema, ...errorReplies('RENKEI_FORBIDDEN', 'RENKEI_UNAVAILABLE') },
      },
    },
    async (request) => {
      requireAnyRole(principalOf(request), ['admin', 'analyst']);
      return { items: await listOrganisations(pool) };
    },
  );

  app.post(
    '/v1/organisations',
    {
      schema: {
        summary: 'Register an organisation (administrators)',
        tags: ['organisations'],
        body: organisationSubmissionSchema,
        response: {
          201: organisationSchema,
          ...errorReplies(
            'RENKEI_INVALID_REQUEST',
            'RENKEI_FORBIDDEN',
            'RENKEI_CONFLICT',
            'RENKEI_RATE_LIMITED',
            'RENKEI_UNAVAILABLE',
          ),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, ['admin']);
      const organisation = await registerOrganisation(pool, request.body, {
        subject: principal.subject,
        organisationId: principal.organisationId,
      });
      await registry.refresh();
      return reply.status(201).send(organisation);
    },
  );

  app.patch(
    '/v1/organisations/:id',
    {
      schema: {
        summary: "Change an organisation's name or language (administrators); the language is its e-mail's",
        tags: ['organisations'],
        params: z.object({ id: organisationIdSchema }),
        body: organisationChangeSchema,
        response: {
          200: organisationSchema,
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
      requireAnyRole(principal, ['admin']);
      const { id } = request.params;
      const organisation = await changeOrganisation(pool, id, request.body, {
        subject: principal.subject,
        organisationId: principal.organisationId,
      });
      if (!organisation) throw new RenkeiError('RENKEI_NOT_FOUND', `no organisation ${id}`);
      await registry.refresh();
      return organisation;
    },
  );

  for (const action of ['disable', 'enable'] as const) {
    app.post(
      `/v1/organisations/:id/${action}`,
      {
        schema: {
          summary:
            action === 'disable'
              ? 'Disable an organisation: its tokens are refused and its streams closed (administrators)'
              : 'Enable an organisation again (administrators)',
          tags: ['organisations'],
          params: z.object({ id: organisationIdSchema }),
          response: {
            200: organisationSchema,
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
        requireAnyRole(principal, ['admin']);
        const { id } = request.params;
        const organisation = await setOrganisationEnabled(pool, id, action === 'enable', {
          subject: principal.subject,
          organisationId: principal.organisationId,
        });
        if (!organisation) throw new RenkeiError('RENKEI_NOT_FOUND', `no organisation ${id}`);
        await registry.refresh();
        return organisation;
      },
    );
  }
}
