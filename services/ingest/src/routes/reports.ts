import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { recordAudit } from '@renkei/audit';
import { principalOf, requireAnyRole } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { annotateRequest, errorReplies, type HttpServer } from '@renkei/http';
import { canReadReport, REPORTING_ROLES, tlpAfterChanges } from '@renkei/policy';
import { RenkeiError } from '@renkei/runtime';
import { reportStatusViewSchema, reportSubmissionSchema, type ReportStatusView } from '@renkei/schema';
import { envelopeFor } from '../envelope.js';
import { indicatorViews } from '../indicator-view.js';
import { findSuppressions } from '../queries/indicators.js';
import { findSubmission } from '../queries/submissions.js';
import { findTlpChanges } from '../queries/tlp-changes.js';
import type { SubmissionBatcher } from '../submission-batcher.js';

export interface ReportRoutesDeps {
  pool: Pool;
  /** Records, sends and acknowledges submissions, in batches. */
  submissions: Pick<SubmissionBatcher, 'submit'>;
}

const acceptedReply = z.object({ id: z.uuid(), status: z.literal('accepted') });

export function reportRoutes(app: HttpServer, deps: ReportRoutesDeps): void {
  app.post(
    '/v1/reports',
    {
      schema: {
        summary: 'Submit an incident report',
        description:
          'Answered 202 only once Kafka holds the report. Retrying with the same id and body is answered again and stored once.',
        tags: ['reports'],
        body: reportSubmissionSchema,
        response: {
          202: acceptedReply,
          ...errorReplies(
            'RENKEI_INVALID_REQUEST',
            'RENKEI_FORBIDDEN',
            'RENKEI_CONFLICT',
            'RENKEI_PAYLOAD_TOO_LARGE',
            'RENKEI_UNSUPPORTED_MEDIA_TYPE',
            'RENKEI_RATE_LIMITED',
            'RENKEI_UNAVAILABLE',
          ),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, REPORTING_ROLES);
      const report = { ...request.body, id: request.body.id ?? randomUUID() };
      const envelope = envelopeFor(principal, report, new Date().toISOString());
      annotateRequest(request, { reportId: report.id, organisationId: principal.organisationId });
      const outcome = await deps.submissions.submit(envelope);
      annotateRequest(request, { outcome });
      return reply.status(202).send({ id: report.id, status: 'accepted' });
    },
  );

  app.get(
    '/v1/reports/:id',
    {
      schema: {
        summary: 'Follow a report: accepted, then processed; each indicator as written and canonical',
        description: "Answered to the reporting organisation and to analysts; anyone else's report is a 404.",
        tags: ['reports'],
        params: z.object({ id: z.uuid() }),
        response: {
          200: reportStatusViewSchema,
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_NOT_FOUND', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request): Promise<ReportStatusView> => {
      const principal = principalOf(request);
      const { id } = request.params;
      const row = await findSubmission(deps.pool, id);
      // Someone else's report is indistinguishable from a missing one; the attempt is audited.
      const stored = row && (row.state === 'accepted' || row.processed_at !== null);
      const visible = stored && canReadReport(principal, { organisationId: row.organisation_id });
      if (!visible) {
        if (stored) {
          await recordAudit(deps.pool, {
            kind: 'access.denied',
            actor: principal.subject,
            organisationId: principal.organisationId,
            object: id,
            outcome: 'denied',
            details: { what: 'report' },
          });
        }
        throw new RenkeiError('RENKEI_NOT_FOUND', `no report ${id}`);
      }
      return {
        id: row.id,
        status: row.processed_at ? 'processed' : 'accepted',
        organisationId: row.envelope.organisationId,
        sector: row.envelope.sector,
        receivedAt: row.envelope.receivedAt,
        processedAt: row.processed_at,
        tlp: tlpAfterChanges(
          row.envelope.report.tlp,
          (await findTlpChanges(deps.pool, id))
            .filter((change) => change.state === 'accepted')
            .map((change) => change.tlp),
        ),
        report: row.envelope.report,
        indicators: indicatorViews(
          row.envelope.report,
          row.processed_at ? await findSuppressions(deps.pool, id) : new Map(),
        ),
      };
    },
  );
}
