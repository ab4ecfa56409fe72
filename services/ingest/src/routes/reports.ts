import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { principalOf, requireAnyRole } from '@renkei/auth';
import { HEADERS, isBrokerUnavailable, withDeadline, type Producer } from '@renkei/bus';
import type { Pool } from '@renkei/db';
import { errorReplies, type HttpServer } from '@renkei/http';
import { canReadReport, REPORTING_ROLES } from '@renkei/policy';
import { RenkeiError } from '@renkei/runtime';
import {
  REPORT_ENVELOPE_SCHEMA,
  reportStatusViewSchema,
  reportSubmissionSchema,
  type ReportEnvelope,
  type ReportStatusView,
} from '@renkei/schema';
import { contentSha256 } from '../content-hash.js';
import { indicatorViews } from '../indicator-view.js';
import { findSuppressions } from '../queries/indicators.js';
import { claimSubmission, findSubmission, markAccepted } from '../queries/submissions.js';

export interface ReportRoutesDeps {
  pool: Pool;
  producer: Producer;
  reportsTopic: string;
  kafkaTimeoutMs: number;
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
            'RENKEI_UNAVAILABLE',
          ),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, REPORTING_ROLES);
      const report = { ...request.body, id: request.body.id ?? randomUUID() };
      const envelope: ReportEnvelope = {
        schema: REPORT_ENVELOPE_SCHEMA,
        id: report.id,
        organisationId: principal.organisationId,
        sector: principal.sector,
        submittedBy: principal.subject,
        receivedAt: new Date().toISOString(),
        contentSha256: contentSha256(report),
        report,
      };
      const log = request.log.child({ reportId: report.id, organisationId: principal.organisationId });

      const existing = await claimSubmission(deps.pool, envelope);
      if (existing) {
        if (
          existing.organisation_id !== envelope.organisationId ||
          existing.content_sha256 !== envelope.contentSha256
        ) {
          throw new RenkeiError(
            'RENKEI_CONFLICT',
            `report ${report.id} already exists with a different body`,
          );
        }
        if (existing.state === 'accepted') {
          log.info('retry of an accepted report: answered without a second send');
          return reply.status(202).send({ id: report.id, status: 'accepted' });
        }
        // A previous attempt stopped between the ledger and Kafka's acknowledgement
        // (or is still in flight). Sending the first envelope again is safe: the
        // correlator stores a report id once.
        await send(existing.envelope);
      } else {
        await send(envelope);
      }
      await markAccepted(deps.pool, report.id).catch((error: unknown) => {
        // Kafka holds the report, so it is accepted; the ledger catches up when
        // the correlator has stored it (GET reads both).
        log.warn({ err: error }, 'report is in Kafka but the ledger could not be updated');
      });
      log.info('report accepted');
      return reply.status(202).send({ id: report.id, status: 'accepted' });

      async function send(message: ReportEnvelope): Promise<void> {
        try {
          await withDeadline(
            deps.producer.send({
              topic: deps.reportsTopic,
              acks: -1,
              messages: [
                {
                  key: message.id,
                  value: JSON.stringify(message),
                  headers: {
                    [HEADERS.reportId]: message.id,
                    [HEADERS.messageType]: message.schema,
                    [HEADERS.contentType]: 'application/json',
                  },
                },
              ],
            }),
            deps.kafkaTimeoutMs,
            'Kafka acknowledgement',
          );
        } catch (error) {
          if (!isBrokerUnavailable(error)) throw error;
          throw new RenkeiError(
            'RENKEI_UNAVAILABLE',
            'the report could not be stored; retry with the same id',
            {
              cause: error,
            },
          );
        }
      }
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
      // Someone else's report is indistinguishable from a missing one.
      const visible =
        row &&
        (row.state === 'accepted' || row.processed_at !== null) &&
        canReadReport(principal, { organisationId: row.organisation_id });
      if (!visible) throw new RenkeiError('RENKEI_NOT_FOUND', `no report ${id}`);
      return {
        id: row.id,
        status: row.processed_at ? 'processed' : 'accepted',
        organisationId: row.envelope.organisationId,
        sector: row.envelope.sector,
        receivedAt: row.envelope.receivedAt,
        processedAt: row.processed_at,
        report: row.envelope.report,
        indicators: indicatorViews(
          row.envelope.report,
          row.processed_at ? await findSuppressions(deps.pool, id) : new Map(),
        ),
      };
    },
  );
}
