/**
 * The HTTP floor: ingest's `POST /v1/reports` without Kafka and PostgreSQL.
 * Built from the same parts as ingest (createHttpApp with its token check,
 * JSON parser, error replies, request log line and metrics; the same zod
 * schema; the same role check and envelope with its content hash), so the
 * only difference from ingest is handing the envelope to the batcher — the
 * ledger writes and the Kafka acknowledgement. Run as a process of its own by
 * the ingest-http scenario; listens on PORT.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { loadTokenVerifier, principalOf, requireAnyRole } from '@renkei/auth';
import { annotateRequest, createHttpApp, errorReplies } from '@renkei/http';
import { contentSha256 } from '@renkei/ingest';
import { createMetrics } from '@renkei/metrics';
import { REPORTING_ROLES } from '@renkei/policy';
import { ReleaseStack, runService, serviceHandle, ServiceOutcome } from '@renkei/runtime';
import {
  authEnv,
  hostSchema,
  logEnv,
  parseEnv,
  portSchema,
  REPORT_ENVELOPE_SCHEMA,
  reportSubmissionSchema,
  type ReportEnvelope,
} from '@renkei/schema';

const floorConfigSchema = z.object({
  ...logEnv.shape,
  ...authEnv.shape,
  HOST: hostSchema,
  PORT: portSchema,
});

const acceptedReply = z.object({ id: z.uuid(), status: z.literal('accepted') });

await runService(
  'http-floor',
  () => parseEnv(floorConfigSchema, process.env),
  async (config, logger) => {
    const resources = new ReleaseStack('http-floor');
    const outcome = new ServiceOutcome();
    const http = await createHttpApp({
      service: 'http-floor',
      logger,
      verifyToken: await loadTokenVerifier(config),
      checkReadiness: async () => true,
      metrics: createMetrics('http-floor'),
    });
    http.app.post(
      '/v1/reports',
      {
        schema: {
          body: reportSubmissionSchema,
          response: {
            202: acceptedReply,
            ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_FORBIDDEN', 'RENKEI_PAYLOAD_TOO_LARGE'),
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
        annotateRequest(request, { reportId: envelope.id, organisationId: principal.organisationId });
        // Where ingest awaits the batcher; the outcome it then notes is always the same here.
        annotateRequest(request, { outcome: 'accepted' });
        return reply.status(202).send({ id: envelope.id, status: 'accepted' });
      },
    );
    resources.defer(() => http.close());
    const url = await http.listen({ host: config.HOST, port: config.PORT, onFailure: outcome.fail });
    logger.info({ url }, 'http floor listening');
    return serviceHandle(resources, outcome);
  },
);
