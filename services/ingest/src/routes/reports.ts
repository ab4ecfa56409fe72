import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { principalOf, requireAnyRole } from '@renkei/auth';
import { HEADERS, withDeadline, type Producer } from '@renkei/bus';
import type { Pool } from '@renkei/db';
import { invalidRequest } from '@renkei/http';
import { canReadReport, REPORTING_ROLES } from '@renkei/policy';
import { RenkeiError } from '@renkei/runtime';
import {
  REPORT_ENVELOPE_SCHEMA,
  reportSubmissionSchema,
  type ReportEnvelope,
  type ReportStatusView,
} from '@renkei/schema';
import { contentSha256 } from '../content-hash.js';
import { claimSubmission, findSubmission, markAccepted } from '../submissions.js';

export interface ReportRoutesDeps {
  pool: Pool;
  producer: Producer;
  reportsTopic: string;
  kafkaTimeoutMs: number;
}

const reportIdParams = z.object({ id: z.uuid() });

export function reportRoutes(app: FastifyInstance, deps: ReportRoutesDeps): void {
  app.post('/v1/reports', async (request, reply) => {
    const principal = principalOf(request);
    requireAnyRole(principal, REPORTING_ROLES);
    const parsed = reportSubmissionSchema.safeParse(request.body);
    if (!parsed.success) throw invalidRequest(parsed.error);

    const report = { ...parsed.data, id: parsed.data.id ?? randomUUID() };
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

    const existing = await withUnavailable(() => claimSubmission(deps.pool, envelope));
    if (existing) {
      if (
        existing.organisation_id !== envelope.organisationId ||
        existing.content_sha256 !== envelope.contentSha256
      ) {
        throw new RenkeiError('RENKEI_CONFLICT', `report ${report.id} already exists with a different body`);
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
        log.error({ err: error }, 'Kafka did not acknowledge the report');
        throw new RenkeiError(
          'RENKEI_UNAVAILABLE',
          'the report could not be stored; retry with the same id',
          {
            cause: error,
            retriable: true,
          },
        );
      }
    }
  });

  app.get('/v1/reports/:id', async (request) => {
    const principal = principalOf(request);
    const params = reportIdParams.safeParse(request.params);
    if (!params.success) throw invalidRequest(params.error);
    const row = await withUnavailable(() => findSubmission(deps.pool, params.data.id));
    // Someone else's report is indistinguishable from a missing one.
    const visible =
      row &&
      (row.state === 'accepted' || row.processed_at !== null) &&
      canReadReport(principal, { organisationId: row.organisation_id });
    if (!visible) throw new RenkeiError('RENKEI_NOT_FOUND', `no report ${params.data.id}`);
    const view: ReportStatusView = {
      id: row.id,
      status: row.processed_at ? 'processed' : 'accepted',
      organisationId: row.envelope.organisationId,
      sector: row.envelope.sector,
      receivedAt: row.envelope.receivedAt,
      processedAt: row.processed_at,
      report: row.envelope.report,
    };
    return view;
  });
}

async function withUnavailable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new RenkeiError('RENKEI_UNAVAILABLE', 'the database is unavailable; retry later', {
      cause: error,
      retriable: true,
    });
  }
}
