import { randomUUID } from 'node:crypto';
import { contentSha256 } from '@renkei/ingest';
import { REPORT_ENVELOPE_SCHEMA, type ReportEnvelope, type ReportSubmission } from '@renkei/schema';

/**
 * The report every scenario sends: a realistic size (about 1 KB as JSON) and
 * five indicators of its own, so nothing correlates unless a scenario says so.
 */
export function benchReport(tag: string, index: number, shared?: string): ReportSubmission {
  const own = Array.from({ length: shared ? 2 : 5 }, (_, k) => ({
    type: 'domain' as const,
    value: `c2-${index}-${k}.${tag}.bench.example`,
  }));
  return {
    title: `Benchmark report ${index}`,
    description: 'Beaconing to a known C2 address from a finance-sector workstation. '.repeat(4),
    category: 'malware',
    severity: 'medium',
    tlp: 'GREEN',
    detectedAt: '2026-11-28T00:00:00Z',
    indicators: shared ? [{ type: 'domain', value: shared, role: 'c2' }, ...own] : own,
  };
}

/** The envelope ingest would build for that report: what its Kafka path sends. */
export function benchEnvelope(tag: string, index: number): ReportEnvelope {
  const id = randomUUID();
  const report = { ...benchReport(tag, index), id, exercise: false };
  return {
    schema: REPORT_ENVELOPE_SCHEMA,
    id,
    organisationId: 'bench-csirt',
    sector: 'finance',
    submittedBy: 'bench',
    receivedAt: new Date().toISOString(),
    contentSha256: contentSha256(report),
    report,
  };
}
