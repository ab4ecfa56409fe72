import { z } from 'zod';
import { recordAudit } from '@renkei/audit';
import { principalOf } from '@renkei/auth';
import { reportsTopicMessage, withDeadline, type AcknowledgedSender } from '@renkei/bus';
import { withTransaction, type Pool } from '@renkei/db';
import { annotateRequest, errorReplies, invalidField, type HttpServer } from '@renkei/http';
import { canChangeReportTlp, canReadReport, judgeTlpChange, tlpAfterChanges } from '@renkei/policy';
import { RenkeiError, type Logger } from '@renkei/runtime';
import {
  TLP_CHANGE_SCHEMA,
  tlpChangeAcceptedSchema,
  tlpChangeMessageSchema,
  tlpChangeRequestSchema,
  type TlpChangeAccepted,
  type TlpChangeMessage,
} from '@renkei/schema';
import { findSubmission } from '../queries/submissions.js';
import { claimTlpChange, findTlpChanges, markTlpChangeAccepted } from '../queries/tlp-changes.js';

export interface TlpRoutesDeps {
  pool: Pool;
  producer: AcknowledgedSender;
  reportsTopic: string;
  kafkaTimeoutMs: number;
  logger: Logger;
}

/**
 * `POST /v1/reports/:id/tlp`: the reporting organisation (or an analyst)
 * tightens a report's TLP. The change takes the report's own durable path:
 * a message on the reports topic, keyed by the report id so it follows the
 * report on its partition, answered 202 only once Kafka holds it. The
 * correlator applies it and rewrites every alert that holds the report.
 */
export function tlpRoutes(app: HttpServer, deps: TlpRoutesDeps): void {
  app.post(
    '/v1/reports/:id/tlp',
    {
      schema: {
        summary: "Tighten a report's TLP",
        description:
          'Only the reporting organisation or an analyst, and only to a more restrictive label. Answered 202 once Kafka holds the change; a retry is answered again and applied once. Every alert holding the report gets a new version recomputed for every viewer.',
        tags: ['reports'],
        params: z.object({ id: z.uuid() }),
        body: tlpChangeRequestSchema,
        response: {
          202: tlpChangeAcceptedSchema,
          ...errorReplies(
            'RENKEI_INVALID_REQUEST',
            'RENKEI_FORBIDDEN',
            'RENKEI_NOT_FOUND',
            'RENKEI_UNSUPPORTED_MEDIA_TYPE',
            'RENKEI_RATE_LIMITED',
            'RENKEI_UNAVAILABLE',
          ),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { id } = request.params;
      const { tlp } = request.body;
      annotateRequest(request, { reportId: id, organisationId: principal.organisationId, tlp });

      const row = await findSubmission(deps.pool, id);
      const stored = row && (row.state === 'accepted' || row.processed_at !== null);
      // As for GET: a report the caller may not read is indistinguishable from a missing one.
      if (!stored || !canReadReport(principal, { organisationId: row.organisation_id })) {
        if (stored) {
          await recordAudit(deps.pool, {
            kind: 'access.denied',
            actor: principal.subject,
            organisationId: principal.organisationId,
            object: id,
            outcome: 'denied',
            details: { what: 'report', action: 'tlp-change' },
          });
        }
        throw new RenkeiError('RENKEI_NOT_FOUND', `no report ${id}`);
      }
      if (!canChangeReportTlp(principal, { organisationId: row.organisation_id })) {
        throw new RenkeiError(
          'RENKEI_FORBIDDEN',
          "only the reporting organisation or an analyst may change a report's TLP",
        );
      }

      const changes = await findTlpChanges(deps.pool, id);
      const earlier = changes.find((change) => change.tlp === tlp);
      let message: TlpChangeMessage;
      if (earlier?.state === 'accepted') {
        annotateRequest(request, { outcome: 'already-accepted' });
        return reply.status(202).send(accepted(id, tlp));
      } else if (earlier) {
        // An earlier attempt stopped between the ledger and Kafka: its message goes again.
        message = earlier.message;
      } else {
        const current = tlpAfterChanges(
          row.envelope.report.tlp,
          changes.filter((change) => change.state === 'accepted').map((change) => change.tlp),
        );
        const judgement = judgeTlpChange(current, tlp);
        if (judgement !== 'tightens') {
          throw invalidField(
            'tlp',
            judgement === 'unchanged'
              ? `the report is ${current} already; a change must be more restrictive`
              : `a TLP can only be tightened: ${tlp} is less restrictive than the report's ${current}`,
          );
        }
        message = (
          await claimTlpChange(
            deps.pool,
            tlpChangeMessageSchema.parse({
              schema: TLP_CHANGE_SCHEMA,
              reportId: id,
              tlp,
              organisationId: principal.organisationId,
              changedBy: principal.subject,
              receivedAt: new Date().toISOString(),
            }),
          )
        ).message;
      }

      await send(deps, message);
      const from = tlpAfterChanges(
        row.envelope.report.tlp,
        changes.filter((change) => change.state === 'accepted').map((change) => change.tlp),
      );
      await withTransaction(deps.pool, async (db) => {
        // Audited with the acceptance: once per change, never for a retry.
        if (await markTlpChangeAccepted(db, id, tlp)) {
          await recordAudit(db, {
            kind: 'report.tlp-changed',
            actor: message.changedBy,
            organisationId: message.organisationId,
            object: id,
            outcome: 'success',
            details: { from, to: tlp, reportOrganisationId: row.organisation_id },
          });
        }
      }).catch((error: unknown) => {
        // Kafka holds the change, so it is accepted; a retry marks the ledger.
        deps.logger.warn(
          { err: error, reportId: id },
          'TLP change is in Kafka but the ledger could not be updated',
        );
      });
      annotateRequest(request, { outcome: 'accepted' });
      return reply.status(202).send(accepted(id, tlp));
    },
  );
}

function accepted(id: string, tlp: TlpChangeAccepted['tlp']): TlpChangeAccepted {
  return { id, tlp, status: 'accepted' };
}

async function send(deps: TlpRoutesDeps, message: TlpChangeMessage): Promise<void> {
  // A message still waiting for its partition when the caller gets its 503 is not sent.
  const abandon = new AbortController();
  try {
    await withDeadline(
      deps.producer.send(
        {
          topic: deps.reportsTopic,
          acks: -1,
          messages: [reportsTopicMessage(message.reportId, message)],
        },
        { signal: abandon.signal },
      ),
      deps.kafkaTimeoutMs,
      'Kafka acknowledgement',
    );
  } catch (error) {
    abandon.abort();
    deps.logger.error({ err: error, reportId: message.reportId }, 'Kafka did not acknowledge a TLP change');
    throw error;
  }
}
