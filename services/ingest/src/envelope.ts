import { REPORT_ENVELOPE_SCHEMA, type Principal, type Report, type ReportEnvelope } from '@renkei/schema';
import { contentSha256 } from './content-hash.js';

/** A report as Kafka carries it: organisation, sector and subject from the token, never from the body. */
export function envelopeFor(principal: Principal, report: Report, receivedAt: string): ReportEnvelope {
  return {
    schema: REPORT_ENVELOPE_SCHEMA,
    id: report.id,
    organisationId: principal.organisationId,
    sector: principal.sector,
    submittedBy: principal.subject,
    receivedAt,
    contentSha256: contentSha256(report),
    report,
  };
}
