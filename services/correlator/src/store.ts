import type { PoolClient } from '@renkei/db';
import type { Sighting as RuleSighting } from '@renkei/correlation';
import type { AlertRecord, IndicatorType, ReportEnvelope } from '@renkei/schema';

export interface KafkaPosition {
  topic: string;
  partition: number;
  offset: string;
}

export interface StoredIndicator {
  position: number;
  type: IndicatorType;
  value: string;
  normalizedValue: string;
  role: string | undefined;
}

/** Inserts the report unless its id is already stored; true when this call stored it. */
export async function insertReport(
  db: PoolClient,
  envelope: ReportEnvelope,
  at: KafkaPosition,
): Promise<boolean> {
  const { report } = envelope;
  const result = await db.query(
    `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, description, category, severity, tlp,
                          detected_at, received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (id) DO NOTHING`,
    [
      report.id,
      envelope.organisationId,
      envelope.sector,
      envelope.submittedBy,
      report.title,
      report.description ?? null,
      report.category,
      report.severity,
      report.tlp,
      report.detectedAt,
      envelope.receivedAt,
      report.exercise,
      envelope.contentSha256,
      at.topic,
      at.partition,
      at.offset,
    ],
  );
  return result.rowCount === 1;
}

export async function insertIndicators(
  db: PoolClient,
  reportId: string,
  indicators: StoredIndicator[],
): Promise<void> {
  if (indicators.length === 0) return;
  await db.query(
    `INSERT INTO report_indicators (report_id, position, type, value, normalized_value, role)
     SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[], $6::text[])`,
    [
      reportId,
      indicators.map((i) => i.position),
      indicators.map((i) => i.type),
      indicators.map((i) => i.value),
      indicators.map((i) => i.normalizedValue),
      indicators.map((i) => i.role ?? null),
    ],
  );
}

export async function takeAdvisoryLocks(db: PoolClient, lockIds: string[]): Promise<void> {
  // One statement, locks taken in array order (the caller sorts them).
  await db.query(
    `SELECT pg_advisory_xact_lock(id) FROM unnest($1::bigint[]) WITH ORDINALITY AS t(id, n) ORDER BY n`,
    [lockIds],
  );
}

export interface Sighting extends RuleSighting {
  type: IndicatorType;
  normalizedValue: string;
}

/** Every stored report (with the given exercise flag) that carries one of the indicators. */
export async function findSightings(
  db: PoolClient,
  indicators: { type: IndicatorType; normalizedValue: string }[],
  exercise: boolean,
): Promise<Sighting[]> {
  const result = await db.query<{
    type: IndicatorType;
    normalized_value: string;
    report_id: string;
    organisation_id: string;
    sector: RuleSighting['sector'];
    tlp: RuleSighting['tlp'];
    severity: RuleSighting['severity'];
    category: RuleSighting['category'];
    detected_at: string;
    received_at: string;
  }>(
    `SELECT DISTINCT ri.type, ri.normalized_value, r.id AS report_id, r.organisation_id, r.sector, r.tlp,
                     r.severity, r.category, r.detected_at, r.received_at
       FROM report_indicators ri
       JOIN reports r ON r.id = ri.report_id
      WHERE (ri.type, ri.normalized_value) IN (SELECT * FROM unnest($1::text[], $2::text[]))
        AND r.exercise = $3`,
    [indicators.map((i) => i.type), indicators.map((i) => i.normalizedValue), exercise],
  );
  return result.rows.map((row) => ({
    type: row.type,
    normalizedValue: row.normalized_value,
    reportId: row.report_id,
    organisationId: row.organisation_id,
    sector: row.sector,
    tlp: row.tlp,
    severity: row.severity,
    category: row.category,
    detectedAt: row.detected_at,
    receivedAt: row.received_at,
  }));
}

export async function findAlerts(
  db: PoolClient,
  correlationKeys: string[],
): Promise<Map<string, AlertRecord>> {
  const result = await db.query<{ correlation_key: string; record: AlertRecord }>(
    `SELECT correlation_key, record FROM alerts WHERE correlation_key = ANY($1::text[]) FOR UPDATE`,
    [correlationKeys],
  );
  return new Map(result.rows.map((row) => [row.correlation_key, row.record]));
}

/**
 * Writes a new alert version in the caller's transaction. Its feed position
 * comes later, from the sequencer, so positions commit in order.
 */
export async function writeAlertVersion(
  db: PoolClient,
  correlationKey: string,
  record: AlertRecord,
  causedByReportId: string,
): Promise<void> {
  await db.query(
    `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, record, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (id) DO UPDATE SET
       version = EXCLUDED.version, tlp = EXCLUDED.tlp, severity = EXCLUDED.severity,
       record = EXCLUDED.record, updated_at = EXCLUDED.updated_at`,
    [
      record.id,
      correlationKey,
      record.kind,
      record.version,
      record.exercise,
      record.tlp,
      record.severity,
      record,
      record.createdAt,
      record.updatedAt,
    ],
  );
  await db.query(
    `INSERT INTO alert_versions (alert_id, version, record, caused_by_report_id) VALUES ($1, $2, $3, $4)`,
    [record.id, record.version, record, causedByReportId],
  );
}
