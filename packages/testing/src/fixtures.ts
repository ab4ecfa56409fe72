import { randomUUID } from 'node:crypto';
import {
  ALERT_RECORD_SCHEMA,
  alertRecordSchema,
  REPORT_ENVELOPE_SCHEMA,
  type AlertContribution,
  type AlertRecord,
  type ReportEnvelope,
  type Sector,
} from '@renkei/schema';

/** A contribution to an alert, with plausible values for what the test does not set. */
export function contributionFixture(overrides: Partial<AlertContribution> = {}): AlertContribution {
  return {
    reportId: randomUUID(),
    organisationId: 'a-csirt',
    sector: 'finance',
    tlp: 'GREEN',
    severity: 'high',
    category: 'malware',
    detectedAt: '2026-11-28T00:00:00.000Z',
    receivedAt: '2026-11-28T00:00:00.000Z',
    indicators: [{ type: 'domain', value: 'evil.example' }],
    addedInVersion: 1,
    ...overrides,
  };
}

/**
 * A valid alert record (checked against the schema): by default a GREEN
 * shared-indicator alert from two organisations of one sector, version 1.
 */
export function alertRecordFixture(overrides: Partial<AlertRecord> = {}): AlertRecord {
  const version = overrides.version ?? 1;
  const contributions = overrides.contributions ?? [
    contributionFixture({ organisationId: 'a-csirt', tlp: overrides.tlp ?? 'GREEN' }),
    contributionFixture({ organisationId: 'b-csirt', tlp: overrides.tlp ?? 'GREEN' }),
  ];
  return alertRecordSchema.parse({
    schema: ALERT_RECORD_SCHEMA,
    id: randomUUID(),
    version,
    kind: 'shared-indicator',
    severity: 'high',
    tlp: 'GREEN',
    title: 'domain evil.example reported by 2 organisations in 1 sector',
    reasons: ['2 organisations in 1 sector reported domain evil.example'],
    indicators: [{ type: 'domain', value: 'evil.example' }],
    sectors: ['finance'],
    organisationCount: 2,
    contributions,
    relatedAlertIds: [],
    tooCommon: false,
    watchlistEntryId: null,
    history: Array.from({ length: version }, (_, index) => ({
      version: index + 1,
      at: '2026-11-28T00:00:00.000Z',
      change: 'contribution',
    })),
    createdAt: '2026-11-28T00:00:00.000Z',
    updatedAt: '2026-11-28T00:00:00.000Z',
    exercise: false,
    ...overrides,
  });
}

/**
 * A report as the reports topic carries it, with the envelope's bookkeeping
 * filled in: one id for envelope and report, `<organisation>-user` as the
 * submitter, a GREEN high-severity malware report detected when received,
 * with no indicators unless `report` says otherwise.
 */
export function reportEnvelopeFixture({
  organisationId,
  sector,
  receivedAt = new Date().toISOString(),
  report = {},
}: {
  organisationId: string;
  sector: Sector;
  receivedAt?: string;
  report?: Partial<Omit<ReportEnvelope['report'], 'id'>>;
}): ReportEnvelope {
  const id = randomUUID();
  return {
    schema: REPORT_ENVELOPE_SCHEMA,
    id,
    organisationId,
    sector,
    submittedBy: `${organisationId}-user`,
    receivedAt,
    contentSha256: 'a'.repeat(64),
    report: {
      id,
      title: 'C2 traffic',
      category: 'malware',
      severity: 'high',
      tlp: 'GREEN',
      detectedAt: receivedAt,
      indicators: [],
      exercise: false,
      ...report,
    },
  };
}
