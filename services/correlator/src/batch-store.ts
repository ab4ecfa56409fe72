import type { PoolClient, Queryable } from '@renkei/db';
import type { AlertWrite, ReportFacts } from '@renkei/correlation';
import type { Observable, ReadIndicator } from '@renkei/indicators';
import type { ReportEnvelope } from '@renkei/schema';
import type { KafkaPosition } from './store.js';

/**
 * The set-based statements of a chunk: one statement per table for the
 * whole chunk (arrays unnested server-side), whatever its size, instead of
 * one round trip per row.
 */

/** Inserts the reports not stored yet; returns the ids this call stored. */
export async function insertReports(
  db: PoolClient,
  reports: readonly { envelope: ReportEnvelope; at: KafkaPosition }[],
): Promise<Set<string>> {
  if (reports.length === 0) return new Set();
  const column = <T>(read: (item: { envelope: ReportEnvelope; at: KafkaPosition }) => T) => reports.map(read);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, description, category, severity, tlp,
                          detected_at, received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset,
                          labels, labels_text, source_id, source_version, source_part, source_parts)
     SELECT id, organisation_id, sector, submitted_by, title, description, category, severity, tlp,
            detected_at, received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset,
            -- Labels travel as one JSON array per report: unnest cannot take a ragged text[][].
            ARRAY(SELECT jsonb_array_elements_text(labels)), labels_text,
            source_id, source_version, source_part, source_parts
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                   $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::boolean[],
                   $13::text[], $14::text[], $15::integer[], $16::bigint[],
                   $17::jsonb[], $18::text[], $19::uuid[], $20::timestamptz[], $21::integer[], $22::integer[])
         AS t(id, organisation_id, sector, submitted_by, title, description, category, severity, tlp,
              detected_at, received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset,
              labels, labels_text, source_id, source_version, source_part, source_parts)
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [
      column(({ envelope }) => envelope.report.id),
      column(({ envelope }) => envelope.organisationId),
      column(({ envelope }) => envelope.sector),
      column(({ envelope }) => envelope.submittedBy),
      column(({ envelope }) => envelope.report.title),
      column(({ envelope }) => envelope.report.description ?? null),
      column(({ envelope }) => envelope.report.category),
      column(({ envelope }) => envelope.report.severity),
      column(({ envelope }) => envelope.report.tlp),
      column(({ envelope }) => envelope.report.detectedAt),
      column(({ envelope }) => envelope.receivedAt),
      column(({ envelope }) => envelope.report.exercise),
      column(({ envelope }) => envelope.contentSha256),
      column(({ at }) => at.topic),
      column(({ at }) => at.partition),
      column(({ at }) => at.offset),
      column(({ envelope }) => JSON.stringify(envelope.report.labels ?? [])),
      column(({ envelope }) => (envelope.report.labels ?? []).join('\n')),
      column(({ envelope }) => envelope.report.source?.id ?? null),
      column(({ envelope }) => envelope.report.source?.version ?? null),
      column(({ envelope }) => envelope.report.source?.part ?? null),
      column(({ envelope }) => envelope.report.source?.parts ?? null),
    ],
  );
  return new Set(rows.map((row) => row.id));
}

export interface ReportIndicators {
  reportId: string;
  indicators: readonly (ReadIndicator & { role: string | undefined })[];
}

export async function insertIndicatorsMany(
  db: PoolClient,
  reports: readonly ReportIndicators[],
): Promise<void> {
  const rows = reports.flatMap(({ reportId, indicators }) =>
    indicators.map((indicator, position) => ({ reportId, position, indicator })),
  );
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO report_indicators (report_id, position, type, value, normalized_value, canonical_type, role)
     SELECT * FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
    [
      rows.map((r) => r.reportId),
      rows.map((r) => r.position),
      rows.map((r) => r.indicator.type),
      rows.map((r) => r.indicator.value),
      rows.map((r) => r.indicator.canonical?.value ?? r.indicator.value),
      rows.map((r) => r.indicator.canonical?.type ?? null),
      rows.map((r) => r.indicator.role ?? null),
    ],
  );
}

/**
 * The local exclusion covering each observable, as exclusions stood when the
 * hub received its report (as `findExclusions` does for one report).
 * Returns the suppression for each index of `observables` that has one.
 */
export async function findExclusionsMany(
  db: Queryable,
  observables: readonly { observable: Observable; receivedAt: string }[],
): Promise<Map<number, string>> {
  if (observables.length === 0) return new Map();
  const ips = observables
    .map((item, index) => ({ ...item, index }))
    .filter(({ observable }) => observable.indicator.type === 'ipv4' || observable.indicator.type === 'ipv6');
  const { rows } = await db.query<{ i: number; id: string }>(
    `SELECT DISTINCT ON (t.i) t.i::int AS i, e.id
       FROM unnest($1::text[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS t(type, value, at, i)
       JOIN exclusions e ON e.type = t.type AND e.canonical = t.value
      WHERE e.created_at <= t.at AND (e.removed_at IS NULL OR e.removed_at > t.at)
     UNION ALL
     SELECT DISTINCT ON (t.i) t.i::int, e.id
       FROM unnest($4::integer[], $5::text[], $6::inet[], $7::timestamptz[]) AS t(i, type, value, at)
       JOIN exclusions e ON e.network >>= t.value AND e.type = t.type
      WHERE e.created_at <= t.at AND (e.removed_at IS NULL OR e.removed_at > t.at)`,
    [
      observables.map(({ observable }) => observable.indicator.type),
      observables.map(({ observable }) => observable.indicator.value),
      observables.map(({ receivedAt }) => receivedAt),
      ips.map(({ index }) => index + 1),
      ips.map(({ observable }) => observable.indicator.type),
      ips.map(({ observable }) => observable.indicator.value),
      ips.map(({ receivedAt }) => receivedAt),
    ],
  );
  return new Map(rows.map((row) => [row.i - 1, `local exclusion ${row.id}`]));
}

export async function insertSightingsMany(
  db: PoolClient,
  rows: readonly { report: ReportFacts; observable: Observable; suppressedBy: string | null }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO sightings (report_id, type, value, exercise, detected_at, written, host_of, suppressed_by)
     SELECT t.report_id, t.type, t.value, t.exercise, t.detected_at, t.written,
            ARRAY(SELECT jsonb_array_elements_text(t.host_of)), t.suppressed_by
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::boolean[], $5::timestamptz[], $6::boolean[],
                   $7::jsonb[], $8::text[])
         AS t(report_id, type, value, exercise, detected_at, written, host_of, suppressed_by)`,
    [
      rows.map((r) => r.report.reportId),
      rows.map((r) => r.observable.indicator.type),
      rows.map((r) => r.observable.indicator.value),
      rows.map((r) => r.report.exercise),
      rows.map((r) => r.report.detectedAt),
      rows.map((r) => r.observable.written),
      rows.map((r) => JSON.stringify(r.observable.hostOf)),
      rows.map((r) => r.suppressedBy),
    ],
  );
}

/**
 * Writes alert versions in order, in the caller's transaction: every version
 * to `alert_versions`, and each alert's latest one to `alerts` (one row per
 * alert: an upsert may not touch a row twice in one statement).
 *
 * One statement for both tables, and each record serialised once: the
 * records travel as ONE JSON array, not a `jsonb[]` (an array literal would
 * escape every quote of every record), and records are most of the bytes a
 * chunk writes. The alert rows are written by the statement's first part, so
 * the versions' foreign key finds them when it is checked, at its end.
 */
export async function writeAlertVersions(db: PoolClient, rows: AlertVersionRows): Promise<void> {
  if (rows.count === 0) return;
  await db.query(
    `WITH t AS (
       SELECT r, k, c, n FROM ROWS FROM (jsonb_array_elements($1::jsonb), unnest($2::text[]), unnest($3::uuid[]))
         WITH ORDINALITY AS t(r, k, c, n)
     ), latest AS (
       INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, record, created_at, updated_at)
       SELECT DISTINCT ON (k) (r->>'id')::uuid, k, r->>'kind', (r->>'version')::integer, (r->>'exercise')::boolean,
              r->>'tlp', r->>'severity', r, (r->>'createdAt')::timestamptz, (r->>'updatedAt')::timestamptz
         FROM t ORDER BY k, n DESC
       ON CONFLICT (id) DO UPDATE SET
         version = EXCLUDED.version, tlp = EXCLUDED.tlp, severity = EXCLUDED.severity,
         record = EXCLUDED.record, updated_at = EXCLUDED.updated_at
     )
     INSERT INTO alert_versions (alert_id, version, record, caused_by_report_id)
     SELECT (r->>'id')::uuid, (r->>'version')::integer, r, c FROM t ORDER BY n`,
    rows.values,
  );
}

/** The parameters of {@link writeAlertVersions}, made beforehand: serialising the records is most of its JavaScript. */
export interface AlertVersionRows {
  count: number;
  values: [string, string[], string[]];
}

export function alertVersionRows(writes: readonly AlertWrite[]): AlertVersionRows {
  return {
    count: writes.length,
    values: [
      `[${writes.map((w) => JSON.stringify(w.record)).join(',')}]`,
      writes.map((w) => w.correlationKey),
      writes.map((w) => w.causedByReportId),
    ],
  };
}
