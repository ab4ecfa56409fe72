import type { Queryable } from '@renkei/db';

export interface OwnReportRow {
  id: string;
  title: string;
  category: string;
  severity: string;
  /** The report's label now: a tightening the correlator applied shows here. */
  tlp: string;
  exercise: boolean;
  received_at: string;
  processed_at: string | null;
  /** The latest version of its source when that is another report. */
  superseded_by: string | null;
}

/** The newest version of a source and its first part (a split source's parts share the version). */
const SUPERSEDED_BY = `(SELECT n.id FROM reports n
              WHERE r.source_id IS NOT NULL AND n.organisation_id = r.organisation_id
                AND n.source_id = r.source_id AND n.source_version > r.source_version
              ORDER BY n.source_version DESC, n.source_part LIMIT 1)`;

/**
 * An organisation's accepted submissions, newest first, strictly older than
 * the submission `before` (its id: receipt times can tie, an id cannot).
 * Only reports Kafka holds: a pending row may still be refused. Without
 * `allVersions`, a report a later version of its source replaced is left
 * out, as every other list does; a submission not stored yet is listed.
 */
export async function listOwnReports(
  db: Queryable,
  organisationId: string,
  before: string | null,
  limit: number,
  allVersions = false,
): Promise<OwnReportRow[]> {
  const { rows } = await db.query<OwnReportRow>(
    `SELECT s.id, s.envelope->'report'->>'title' AS title, s.envelope->'report'->>'category' AS category,
            s.envelope->'report'->>'severity' AS severity,
            coalesce(r.tlp, s.envelope->'report'->>'tlp') AS tlp,
            coalesce((s.envelope->'report'->>'exercise')::boolean, false) AS exercise,
            s.received_at, r.processed_at, ${SUPERSEDED_BY} AS superseded_by
       FROM report_submissions s
       LEFT JOIN reports r ON r.id = s.id
      WHERE s.organisation_id = $1 AND s.state = 'accepted'
        AND ($4 OR r.id IS NULL OR NOT report_is_superseded(r.organisation_id, r.source_id, r.source_version))
        AND ($2::uuid IS NULL
             OR (s.received_at, s.id) < (SELECT b.received_at, b.id FROM report_submissions b
                                          WHERE b.id = $2 AND b.organisation_id = $1))
      ORDER BY s.received_at DESC, s.id DESC
      LIMIT $3`,
    [organisationId, before, limit, allVersions],
  );
  return rows;
}

export interface ReadableReportRow {
  id: string;
  organisation_id: string;
  sector: string;
  title: string;
  description: string | null;
  category: string;
  severity: string;
  tlp: string;
  detected_at: string;
  received_at: string;
  exercise: boolean;
  indicators: { type: string; value: string }[];
  labels: string[];
  /** The latest version of its source when that is another report (findReadableReport only). */
  superseded_by?: string | null;
}

/** Stored reports by id with their indicators as reported; the caller has already decided which it may read. */
export async function findReports(db: Queryable, ids: readonly string[]): Promise<ReadableReportRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<ReadableReportRow>(
    `SELECT r.id, r.organisation_id, r.sector, r.title, r.description, r.category, r.severity, r.tlp,
            r.detected_at, r.received_at, r.exercise, r.labels,
            coalesce((SELECT json_agg(json_build_object('type', i.type, 'value', i.value) ORDER BY i.position)
                        FROM report_indicators i WHERE i.report_id = r.id), '[]'::json) AS indicators
       FROM reports r WHERE r.id = ANY($1::uuid[])
      ORDER BY r.received_at, r.id`,
    [ids],
  );
  return rows;
}

/**
 * One stored report if the search scope admits it (`packages/policy`
 * `searchScope`: every report for analysts; otherwise the organisation's own
 * and others' at the readable levels), judged in the statement, so a report
 * the viewer may not know of costs what a missing one does: one index probe.
 */
export async function findReadableReport(
  db: Queryable,
  id: string,
  scope: { organisationId: string | null; readable: readonly string[] },
): Promise<ReadableReportRow | undefined> {
  const { rows } = await db.query<ReadableReportRow>(
    `SELECT r.id, r.organisation_id, r.sector, r.title, r.description, r.category, r.severity, r.tlp,
            r.detected_at, r.received_at, r.exercise, r.labels,
            coalesce((SELECT json_agg(json_build_object('type', i.type, 'value', i.value) ORDER BY i.position)
                        FROM report_indicators i WHERE i.report_id = r.id), '[]'::json) AS indicators,
            ${SUPERSEDED_BY} AS superseded_by
       FROM reports r
      WHERE r.id = $1
        AND ($2::text IS NULL OR r.organisation_id = $2 OR r.tlp = ANY($3::text[]))`,
    [id, scope.organisationId, scope.readable],
  );
  return rows[0];
}
