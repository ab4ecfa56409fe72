import type { Queryable } from '@renkei/db';
import type {
  AlertIndicator,
  AlertRecord,
  ReportCategory,
  Sector,
  Severity,
  Tlp,
  WarningRecord,
} from '@renkei/schema';

/** A stored report with its canonical written indicators, as exports need it. */
export interface ReportSource {
  id: string;
  organisationId: string;
  sector: Sector;
  title: string;
  description: string | null;
  category: ReportCategory;
  severity: Severity;
  tlp: Tlp;
  detectedAt: string;
  receivedAt: string;
  exercise: boolean;
  indicators: AlertIndicator[];
  /** Context labels (threat actors, malware, MISP tags…); none when left out. */
  labels?: string[];
  /** When the hub stored it (the correlator processed it): what TAXII calls "added". */
  addedAt: string;
}

export interface AlertSource {
  record: AlertRecord;
  addedAt: string;
}

export interface WarningSource {
  record: WarningRecord;
  addedAt: string;
}

/** Oldest first after `since`, at most `limit` of each kind; `more` says one more exists. */
export interface SourcePage<T> {
  items: T[];
  more: boolean;
}

/**
 * Times are compared at millisecond precision, the precision exports show:
 * a reader who passes back the last time it saw never gets that item again.
 */
export interface SourceFilter {
  since: string | null;
  limit: number;
}

/**
 * Where a read goes on from: after this row in (millisecond, id, version)
 * order. Candidates are read in that order, a batch at a time, until the
 * reader's own page is full (`stix/load.ts`), so the SQL never decides what
 * a page holds or where the next one starts.
 */
export interface SourceKey {
  at: string;
  id: string;
  version: number;
}

export interface CandidateRead {
  since: string | null;
  after: SourceKey | null;
  size: number;
}

/** A report that may be exported, with its place in the read order. */
export interface ReportCandidate extends ReportSource {
  key: SourceKey;
}

/**
 * Reports after `since` in storage order, a batch after `after`, pre-filtered
 * only as the policy's `reportExportFilter` allows (null: every report).
 */
export async function readReportCandidates(
  db: Queryable,
  {
    since,
    after,
    size,
    organisationId,
    tlps,
  }: CandidateRead & {
    organisationId: string | null;
    tlps: readonly Tlp[] | null;
  },
): Promise<ReportCandidate[]> {
  const { rows } = await db.query<ReportSource>(
    `SELECT r.id, r.organisation_id AS "organisationId", r.sector, r.title, r.description, r.category,
            r.severity, r.tlp, r.detected_at AS "detectedAt", r.received_at AS "receivedAt", r.exercise,
            r.labels, date_trunc('milliseconds', r.processed_at) AS "addedAt",
            coalesce((SELECT jsonb_agg(DISTINCT jsonb_build_object('type', ri.canonical_type, 'value', ri.normalized_value))
                        FROM report_indicators ri
                       WHERE ri.report_id = r.id AND ri.canonical_type IS NOT NULL), '[]'::jsonb) AS indicators
       FROM reports r
      WHERE ($1::timestamptz IS NULL OR date_trunc('milliseconds', r.processed_at) > $1::timestamptz)
        AND ($4::timestamptz IS NULL OR (date_trunc('milliseconds', r.processed_at), r.id) > ($4::timestamptz, $5::uuid))
        AND ($2::text[] IS NULL OR r.tlp = ANY($2::text[]) OR r.organisation_id = $3)
        -- One report per source object: only its latest version is exported.
        AND NOT report_is_superseded(r.organisation_id, r.source_id, r.source_version)
      ORDER BY date_trunc('milliseconds', r.processed_at), r.id
      LIMIT $6`,
    [since, tlps, organisationId, after?.at ?? null, after?.id ?? null, size],
  );
  return rows.map((row) => {
    const addedAt = iso(row.addedAt);
    return {
      ...row,
      detectedAt: iso(row.detectedAt),
      receivedAt: iso(row.receivedAt),
      addedAt,
      key: { at: addedAt, id: row.id, version: 0 },
    };
  });
}

/**
 * One version of an alert on the feed, with the alert's record as it stands:
 * `at` is when that version was written. A reader is shown the alert at the
 * version that last changed its view, so every version is a candidate;
 * `latestOnly` (readers who see every version) reads just the latest.
 */
export interface AlertCandidate {
  version: number;
  record: AlertRecord;
  at: string;
  key: SourceKey;
}

/**
 * Alert versions written after `since`, in order, a batch after `after`.
 * `records` remembers each alert's record from the first batch that met it,
 * so one read judges every version of an alert against one record, even if
 * the alert changes while the read goes on.
 */
export async function readAlertCandidates(
  db: Queryable,
  {
    since,
    after,
    size,
    latestOnly,
    records,
  }: CandidateRead & {
    latestOnly: boolean;
    records: Map<string, AlertRecord>;
  },
): Promise<AlertCandidate[]> {
  const { rows } = await db.query<{ id: string; version: number; at: Date }>(
    `SELECT v.alert_id AS id, v.version, date_trunc('milliseconds', v.created_at) AS at
       FROM alert_versions v JOIN alerts a ON a.id = v.alert_id
      WHERE a.position IS NOT NULL AND v.version <= a.version
        AND (NOT $5::boolean OR v.version = a.version)
        AND ($1::timestamptz IS NULL OR date_trunc('milliseconds', v.created_at) > $1::timestamptz)
        AND ($2::timestamptz IS NULL
             OR (date_trunc('milliseconds', v.created_at), v.alert_id, v.version) > ($2::timestamptz, $3::uuid, $4::int))
      ORDER BY date_trunc('milliseconds', v.created_at), v.alert_id, v.version
      LIMIT $6`,
    [since, after?.at ?? null, after?.id ?? null, after?.version ?? null, latestOnly, size],
  );
  const missing = [...new Set(rows.map((row) => row.id).filter((id) => !records.has(id)))];
  if (missing.length > 0) {
    const found = await db.query<{ id: string; record: AlertRecord }>(
      `SELECT id, record FROM alerts WHERE id = ANY($1::uuid[]) AND position IS NOT NULL`,
      [missing],
    );
    for (const { id, record } of found.rows) records.set(id, record);
  }
  return rows.flatMap((row) => {
    const record = records.get(row.id);
    const at = iso(row.at);
    return record
      ? [{ version: row.version, record, at, key: { at, id: row.id, version: row.version } }]
      : [];
  });
}

export interface WarningCandidate extends WarningSource {
  key: SourceKey;
}

/** Warnings published after `since`, a batch after `after`; `sector` pre-filters as `warningSectorFilter` allows. */
export async function readWarningCandidates(
  db: Queryable,
  { since, after, size, sector }: CandidateRead & { sector: Sector | null },
): Promise<WarningCandidate[]> {
  const { rows } = await db.query<{ id: string; record: WarningRecord; addedAt: Date }>(
    `SELECT id, record, date_trunc('milliseconds', published_at) AS "addedAt" FROM warnings
      WHERE ($1::timestamptz IS NULL OR date_trunc('milliseconds', published_at) > $1::timestamptz)
        AND ($3::timestamptz IS NULL OR (date_trunc('milliseconds', published_at), id) > ($3::timestamptz, $4::uuid))
        AND ($2::text IS NULL OR sectors IS NULL OR $2::text = ANY(sectors))
      ORDER BY date_trunc('milliseconds', published_at), id
      LIMIT $5`,
    [since, sector, after?.at ?? null, after?.id ?? null, size],
  );
  return rows.map((row) => {
    const addedAt = iso(row.addedAt);
    return { record: row.record, addedAt, key: { at: addedAt, id: row.id, version: 0 } };
  });
}

/** pg gives Date objects for timestamptz; exports want ISO text. */
function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}
