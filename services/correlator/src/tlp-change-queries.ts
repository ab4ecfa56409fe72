import type { PoolClient } from '@renkei/db';
import type { IndicatorType } from '@renkei/indicators';
import type { AlertRecord, ReportCategory, Sector, Tlp } from '@renkei/schema';

/** What a TLP change needs of its report: the keys report processing locks, and its TLP. */
export interface TlpChangeTarget {
  organisationId: string;
  sector: Sector;
  category: ReportCategory;
  exercise: boolean;
  /** The observables it raised or joined alerts with (unsuppressed sightings). */
  indicators: { type: IndicatorType; value: string }[];
}

export async function findTlpChangeTarget(
  db: PoolClient,
  reportId: string,
): Promise<TlpChangeTarget | undefined> {
  const { rows } = await db.query<{
    organisation_id: string;
    sector: Sector;
    category: ReportCategory;
    exercise: boolean;
    indicators: { type: IndicatorType; value: string }[];
  }>(
    `SELECT r.organisation_id, r.sector, r.category, r.exercise,
            coalesce((SELECT jsonb_agg(jsonb_build_object('type', s.type, 'value', s.value))
                        FROM sightings s WHERE s.report_id = r.id AND s.suppressed_by IS NULL), '[]') AS indicators
       FROM reports r WHERE r.id = $1`,
    [reportId],
  );
  const row = rows[0];
  return (
    row && {
      organisationId: row.organisation_id,
      sector: row.sector,
      category: row.category,
      exercise: row.exercise,
      indicators: row.indicators,
    }
  );
}

/** The report's TLP, read under the caller's locks. */
export async function readReportTlp(db: PoolClient, reportId: string): Promise<Tlp> {
  const { rows } = await db.query<{ tlp: Tlp }>(`SELECT tlp FROM reports WHERE id = $1 FOR UPDATE`, [
    reportId,
  ]);
  return rows[0]!.tlp;
}

export async function updateReportTlp(db: PoolClient, reportId: string, tlp: Tlp): Promise<void> {
  await db.query(`UPDATE reports SET tlp = $2 WHERE id = $1`, [reportId, tlp]);
}

/** Every alert that holds the report, latest version, locked until commit (by id, as report processing locks them). */
export async function lockAlertsHoldingReport(
  db: PoolClient,
  reportId: string,
): Promise<{ correlationKey: string; record: AlertRecord }[]> {
  const { rows } = await db.query<{ correlation_key: string; record: AlertRecord }>(
    `SELECT correlation_key, record FROM alerts
      WHERE alert_report_ids(record) @> ARRAY[$1::uuid]
      ORDER BY id FOR UPDATE`,
    [reportId],
  );
  return rows.map((row) => ({ correlationKey: row.correlation_key, record: row.record }));
}

/** New versions of several alerts, in one statement each for the latest row and the history. */
export async function writeTightenedVersions(
  db: PoolClient,
  records: readonly AlertRecord[],
  causedByReportId: string,
): Promise<void> {
  if (records.length === 0) return;
  await db.query(
    `UPDATE alerts a SET version = t.version, tlp = t.tlp, record = t.record, updated_at = t.updated_at
       FROM unnest($1::uuid[], $2::int[], $3::text[], $4::jsonb[], $5::timestamptz[])
         AS t(id, version, tlp, record, updated_at)
      WHERE a.id = t.id`,
    [
      records.map((r) => r.id),
      records.map((r) => r.version),
      records.map((r) => r.tlp),
      records.map((r) => JSON.stringify(r)),
      records.map((r) => r.updatedAt),
    ],
  );
  await db.query(
    `INSERT INTO alert_versions (alert_id, version, record, caused_by_report_id)
     SELECT t.id, t.version, t.record, $4 FROM unnest($1::uuid[], $2::int[], $3::jsonb[]) AS t(id, version, record)`,
    [
      records.map((r) => r.id),
      records.map((r) => r.version),
      records.map((r) => JSON.stringify(r)),
      causedByReportId,
    ],
  );
}
