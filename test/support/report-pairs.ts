import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { expect } from 'vitest';
import { REPORT_ENVELOPE_SCHEMA, type AlertRecord, type ReportEnvelope } from '@renkei/schema';
import type { Queryable } from '@renkei/db';

/**
 * Reports that come in pairs: two organisations sharing a domain, so each
 * pair makes exactly one alert, at version 1, however often its reports are
 * delivered or retried; pairs lie hours apart, so no sector has a surge.
 * Sent straight to the reports topic, as ingest would after its checks.
 */
export function reportPairs(): { next(count: number): ReportEnvelope[] } {
  let pairs = 0;
  const pair = (): ReportEnvelope[] => {
    const domain = `c2-${randomUUID()}.example`;
    const detectedAt = new Date(Date.now() - (pairs += 1) * 7_200_000).toISOString();
    return (['a-csirt', 'b-ceptar'] as const).map((organisationId) => {
      const id = randomUUID();
      return {
        schema: REPORT_ENVELOPE_SCHEMA,
        id,
        organisationId,
        sector: organisationId === 'a-csirt' ? 'central-government' : 'finance',
        submittedBy: `${organisationId}-user`,
        receivedAt: new Date().toISOString(),
        contentSha256: 'b'.repeat(64),
        report: {
          id,
          title: 'C2 beacon',
          category: 'malware',
          severity: 'high',
          tlp: 'GREEN',
          detectedAt,
          indicators: [{ type: 'domain', value: domain }],
          exercise: false,
        },
      };
    });
  };
  return { next: (count) => Array.from({ length: count }, pair).flat() };
}

export async function sendReports(
  producer: Producer,
  prefix: string,
  envelopes: ReportEnvelope[],
): Promise<void> {
  await producer.send({
    topic: `${prefix}renkei.reports.v1`,
    acks: -1,
    messages: envelopes.map((envelope) => ({ key: envelope.id, value: JSON.stringify(envelope) })),
  });
}

/**
 * The oracle: every report sent is stored, once (its id is the key); one
 * alert per pair, each at version 1 (a chunk stored twice would have
 * written a second version); every version on the feed once, and published.
 */
export async function expectStoredOnce(db: Queryable, sent: ReportEnvelope[]): Promise<void> {
  const reports = await db.query<{ id: string }>('SELECT id FROM reports');
  expect(reports.rows.map((row) => row.id).sort()).toEqual(sent.map((envelope) => envelope.id).sort());
  const { rows } = await db.query<{ alerts: number; versions: number; feed: number; unpublished: number }>(
    `SELECT (SELECT count(*)::int FROM alerts) AS alerts,
            (SELECT count(*)::int FROM alert_versions) AS versions,
            (SELECT count(*)::int FROM feed_events) AS feed,
            (SELECT count(*)::int FROM feed_events WHERE published_at IS NULL)
          + (SELECT count(*)::int FROM feed_outbox) AS unpublished`,
  );
  expect(rows[0]).toEqual({
    alerts: sent.length / 2,
    versions: sent.length / 2,
    feed: sent.length / 2,
    unpublished: 0,
  });
  const versions = await db.query<{ record: AlertRecord }>('SELECT record FROM alert_versions');
  expect(versions.rows.filter((row) => row.record.version !== 1).length).toEqual(0);
}
