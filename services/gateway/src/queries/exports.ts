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

export async function listReportSources(
  db: Queryable,
  {
    since,
    limit,
    organisationId,
    tlps,
  }: SourceFilter & { organisationId: string | null; tlps: readonly Tlp[] | null },
): Promise<SourcePage<ReportSource>> {
  const read = async ({ since, until, limit }: Window) => {
    const { rows } = await db.query<ReportSource>(
      `SELECT r.id, r.organisation_id AS "organisationId", r.sector, r.title, r.description, r.category,
            r.severity, r.tlp, r.detected_at AS "detectedAt", r.received_at AS "receivedAt", r.exercise,
            r.processed_at AS "addedAt",
            coalesce((SELECT jsonb_agg(DISTINCT jsonb_build_object('type', ri.canonical_type, 'value', ri.normalized_value))
                        FROM report_indicators ri
                       WHERE ri.report_id = r.id AND ri.canonical_type IS NOT NULL), '[]'::jsonb) AS indicators
       FROM reports r
      WHERE ($1::timestamptz IS NULL OR date_trunc('milliseconds', r.processed_at) > $1::timestamptz)
        AND ($5::timestamptz IS NULL OR date_trunc('milliseconds', r.processed_at) <= $5::timestamptz)
        AND ($2::text[] IS NULL OR r.tlp = ANY($2::text[]) OR r.organisation_id = $3)
      ORDER BY r.processed_at, r.id
      LIMIT $4`,
      [since, tlps, organisationId, limit, until],
    );
    return rows.map((row) => ({
      ...row,
      detectedAt: iso(row.detectedAt),
      receivedAt: iso(row.receivedAt),
      addedAt: iso(row.addedAt),
    }));
  };
  return wholeMilliseconds(read, since, limit);
}

/** Alerts whose latest version is on the feed, by when that version was written. */
export async function listAlertSources(
  db: Queryable,
  { since, limit }: SourceFilter,
): Promise<SourcePage<AlertSource>> {
  const read = async ({ since, until, limit }: Window) => {
    const { rows } = await db.query<AlertSource>(
      `SELECT a.record, v.created_at AS "addedAt"
         FROM alerts a JOIN alert_versions v ON v.alert_id = a.id AND v.version = a.version
        WHERE a.position IS NOT NULL AND ($1::timestamptz IS NULL OR date_trunc('milliseconds', v.created_at) > $1::timestamptz)
          AND ($3::timestamptz IS NULL OR date_trunc('milliseconds', v.created_at) <= $3::timestamptz)
        ORDER BY v.created_at, a.id
        LIMIT $2`,
      [since, limit, until],
    );
    return rows.map((row) => ({ ...row, addedAt: iso(row.addedAt) }));
  };
  return wholeMilliseconds(read, since, limit);
}

export async function listWarningSources(
  db: Queryable,
  { since, limit, sector }: SourceFilter & { sector: Sector | null },
): Promise<SourcePage<WarningSource>> {
  const read = async ({ since, until, limit }: Window) => {
    const { rows } = await db.query<WarningSource>(
      `SELECT record, published_at AS "addedAt" FROM warnings
        WHERE ($1::timestamptz IS NULL OR date_trunc('milliseconds', published_at) > $1::timestamptz)
          AND ($4::timestamptz IS NULL OR date_trunc('milliseconds', published_at) <= $4::timestamptz)
          AND ($2::text IS NULL OR sectors IS NULL OR $2::text = ANY(sectors))
        ORDER BY published_at, id
        LIMIT $3`,
      [since, sector, limit, until],
    );
    return rows.map((row) => ({ ...row, addedAt: iso(row.addedAt) }));
  };
  return wholeMilliseconds(read, since, limit);
}

/** What one read takes: after `since`, up to and including `until` (null: no bound), at most `limit` rows (null: all). */
interface Window {
  since: string | null;
  until: string | null;
  limit: number | null;
}

/**
 * At most `limit` items after `since`, and `more` when others follow, except
 * that a page never ends inside a millisecond: readers go on from the last
 * time they saw, so items sharing the page's last millisecond beyond the
 * limit (a chunk of reports stored in one transaction shares its time) would
 * never be read. The page takes them all instead.
 */
async function wholeMilliseconds<T extends { addedAt: string }>(
  read: (window: Window) => Promise<T[]>,
  since: string | null,
  limit: number,
): Promise<SourcePage<T>> {
  const rows = await read({ since, until: null, limit: limit + 1 });
  if (rows.length <= limit) return { items: rows, more: false };
  const last = rows[limit - 1]!.addedAt;
  if (rows[limit]!.addedAt !== last) return { items: rows.slice(0, limit), more: true };
  const justBefore = new Date(Date.parse(last) - 1).toISOString();
  const sameMillisecond = await read({ since: justBefore, until: last, limit: null });
  return { items: [...rows.filter((row) => row.addedAt !== last), ...sameMillisecond], more: true };
}

/** pg gives Date objects for timestamptz; exports want ISO text. */
function iso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}
