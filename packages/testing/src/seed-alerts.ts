import type { Queryable } from '@renkei/db';
import { SECTORS, SEVERITIES, type AlertRecord } from '@renkei/schema';
import { alertRecordFixture, contributionFixture } from './fixtures.js';

const ROWS_PER_INSERT = 500;

/**
 * Stores `count` alerts as the correlator and the feed sequencer would have
 * left them (feed positions 1…count, the feed head after them), for browser
 * tests and benchmarks that need a hub with thousands of alerts already in it.
 * Call it on a migrated database before any service starts, so live events
 * take the positions after these. Severities, sectors and organisation counts
 * vary; every tenth has a long URL title, which must never widen the page.
 */
export async function seedAlerts(db: Queryable, count: number, now = Date.now()): Promise<AlertRecord[]> {
  const records: AlertRecord[] = [];
  for (let n = 1; n <= count; n += 1) {
    const at = new Date(now - (count - n) * 15_000).toISOString();
    const sector = SECTORS[n % SECTORS.length]!;
    const value =
      n % 10 === 0
        ? `https://login-${n}.example/${'very-long-path-segment/'.repeat(8)}?session=${'a1b2c3'.repeat(10)}`
        : `seed-${n}.example`;
    const type = n % 10 === 0 ? 'url' : 'domain';
    const contributions = ['a-csirt', 'b-csirt'].map((organisationId) =>
      contributionFixture({
        organisationId,
        sector,
        indicators: [{ type, value }],
        detectedAt: at,
        receivedAt: at,
      }),
    );
    records.push(
      alertRecordFixture({
        severity: SEVERITIES[n % SEVERITIES.length]!,
        title: `${type} ${value} reported by 2 organisations`,
        reasons: [`2 organisations reported ${type} ${value}`],
        indicators: [{ type, value }],
        sectors: [sector],
        contributions,
        createdAt: at,
        updatedAt: at,
      }),
    );
  }
  for (let start = 0; start < records.length; start += ROWS_PER_INSERT) {
    const batch = records.slice(start, start + ROWS_PER_INSERT);
    const positions = batch.map((_, index) => start + index + 1);
    const first = batch.map((record) => record.contributions[0]!);
    await db.query(
      `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp, detected_at,
                            received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
       SELECT id, 'a-csirt', sector, 'seed', 'seeded report', 'malware', 'high', 'GREEN', at, at, false,
              repeat('0', 64), 'seed', 0, position
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[]) AS s(id, sector, at, position)`,
      [first.map((c) => c.reportId), first.map((c) => c.sector), first.map((c) => c.receivedAt), positions],
    );
    await db.query(
      `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, position, record, created_at, updated_at)
       SELECT id, 'seed:' || id, 'shared-indicator', 1, false, 'GREEN', severity, position, record, at, at
         FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::jsonb[], $5::timestamptz[])
           AS s(id, severity, position, record, at)`,
      [
        batch.map((record) => record.id),
        batch.map((record) => record.severity),
        positions,
        batch.map((record) => JSON.stringify(record)),
        batch.map((record) => record.updatedAt),
      ],
    );
    await db.query(
      `INSERT INTO alert_versions (alert_id, version, position, record, caused_by_report_id)
       SELECT id, 1, position, record, report_id
         FROM unnest($1::uuid[], $2::bigint[], $3::jsonb[], $4::uuid[]) AS s(id, position, record, report_id)`,
      [
        batch.map((record) => record.id),
        positions,
        batch.map((record) => JSON.stringify(record)),
        first.map((c) => c.reportId),
      ],
    );
    await db.query(
      `INSERT INTO feed_events (position, kind, payload, alert_id, alert_version, report_id, published_at)
       SELECT position, 'alert', record, id, 1, report_id, now()
         FROM unnest($1::uuid[], $2::bigint[], $3::jsonb[], $4::uuid[]) AS s(id, position, record, report_id)`,
      [
        batch.map((record) => record.id),
        positions,
        batch.map((record) => JSON.stringify(record)),
        first.map((c) => c.reportId),
      ],
    );
  }
  await db.query(
    `INSERT INTO feed_head (singleton, position) VALUES (true, $1)
     ON CONFLICT (singleton) DO UPDATE SET position = GREATEST(feed_head.position, EXCLUDED.position)`,
    [records.length],
  );
  return records;
}
