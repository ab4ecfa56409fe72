import type { Queryable } from '@renkei/db';
import type { SearchScope } from '@renkei/policy';
import type { AlertRecord, Sector, TriageStatus, WarningRecord } from '@renkei/schema';

/** Newest rows a text too short for a trigram is matched against (per kind, per viewer's readable set). */
export const RECENT_TEXT_ROWS = 10_000;

/** Filters every search and lookup applies to reports (and so to sightings). */
export interface ReportFilters {
  exercise: boolean;
  sector: Sector | null;
  since: string | null;
  until: string | null;
}

export const NO_FILTERS: Omit<ReportFilters, 'exercise'> = { sector: null, since: null, until: null };

export interface SummaryRow {
  type: string;
  value: string;
  first_seen: string;
  last_seen: string;
  report_count: number;
  organisation_count: number;
  sectors: Sector[];
  organisations: string[];
}

/**
 * What the viewer may know of each (type, value): one row per value with a
 * report it may read, none for any other. Readable rows (`scope`) give the
 * times, sectors and counts within the filters; others' reports at the
 * scope's `counted` levels add to the counts, whatever the sector and time
 * filters, when the viewer's organisation reported the value itself (they
 * are "also reported elsewhere": nothing of them but that they exist may
 * show, so no filter on their sector or time may either). A report outside
 * the scope is dropped by the join that reads its TLP, before any aggregate.
 */
export async function summariseSightings(
  db: Queryable,
  keys: readonly { type: string; value: string }[],
  scope: SearchScope,
  filters: ReportFilters,
): Promise<SummaryRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query<SummaryRow>(
    `WITH q AS (SELECT DISTINCT t.type, t.value FROM unnest($1::text[], $2::text[]) AS t(type, value)),
     seen AS (
       SELECT s.type, s.value, r.organisation_id, r.sector, r.detected_at,
              ($3::text IS NULL OR r.organisation_id = $3 OR r.tlp = ANY($4::text[])) AS readable,
              ($6::text IS NULL OR r.sector = $6)
                AND ($7::timestamptz IS NULL OR r.detected_at >= $7)
                AND ($8::timestamptz IS NULL OR r.detected_at < $8) AS in_filter
         FROM q
         JOIN sightings s ON s.type = q.type AND s.value = q.value
         JOIN reports r ON r.id = s.report_id
        WHERE r.exercise = $9
          AND ($3::text IS NULL OR r.organisation_id = $3 OR r.tlp = ANY($4::text[]) OR r.tlp = ANY($5::text[]))
     ),
     judged AS (SELECT seen.*, readable AND in_filter AS shown FROM seen)
     -- Rows not readable are others' reports at a counted level: they count only
     -- where the viewer's own organisation reported the value (own).
     SELECT type, value,
            min(detected_at) FILTER (WHERE shown) AS first_seen,
            max(detected_at) FILTER (WHERE shown) AS last_seen,
            CASE WHEN bool_or(organisation_id = $3)
                 THEN count(*) FILTER (WHERE shown OR NOT readable)
                 ELSE count(*) FILTER (WHERE shown) END::int AS report_count,
            CASE WHEN bool_or(organisation_id = $3)
                 THEN count(DISTINCT organisation_id) FILTER (WHERE shown OR NOT readable)
                 ELSE count(DISTINCT organisation_id) FILTER (WHERE shown) END::int AS organisation_count,
            array_agg(DISTINCT sector ORDER BY sector) FILTER (WHERE shown) AS sectors,
            coalesce(array_agg(DISTINCT organisation_id ORDER BY organisation_id)
                       FILTER (WHERE shown AND ($3::text IS NULL OR organisation_id = $3)), '{}') AS organisations
       FROM judged
      GROUP BY type, value
     HAVING bool_or(shown)`,
    [
      keys.map((key) => key.type),
      keys.map((key) => key.value),
      scope.organisationId,
      scope.readable,
      scope.counted,
      filters.sector,
      filters.since,
      filters.until,
      filters.exercise,
    ],
  );
  return rows;
}

/** The distinct values of one address family seen within a network that the viewer may read, in value order. */
export async function addressesWithin(
  db: Queryable,
  network: { type: 'ipv4' | 'ipv6'; cidr: string },
  scope: SearchScope,
  filters: ReportFilters,
  { offset, limit }: { offset: number; limit: number },
): Promise<{ type: string; value: string }[]> {
  const { rows } = await db.query<{ type: string; value: string }>(
    `SELECT DISTINCT s.type, s.value, s.value::inet AS address
       FROM sightings s JOIN reports r ON r.id = s.report_id
      WHERE s.type IN ('ipv4', 'ipv6') AND s.type = $1 AND s.value::inet <<= $2::inet
        AND ${readableReport('r', 3, 4)} AND ${reportFilters('r', 5)}
      ORDER BY address, s.value
      OFFSET $9 LIMIT $10`,
    [
      network.type,
      network.cidr,
      scope.organisationId,
      scope.readable,
      ...filterValues(filters),
      offset,
      limit,
    ],
  );
  return rows.map(({ type, value }) => ({ type, value }));
}

export interface ReportRow {
  id: string;
  title: string;
  category: string;
  severity: string;
  tlp: string;
  sector: Sector;
  organisation_id: string;
  detected_at: string;
  received_at: string;
  exercise: boolean;
  labels: string[];
}

/** What a search matches reports on: sightings of a value, addresses in a network, or text. */
export type ReportMatch =
  | { kind: 'indicator'; type: string; value: string }
  | { kind: 'network'; type: 'ipv4' | 'ipv6'; cidr: string }
  | { kind: 'text'; pattern: string; scope: 'all' | 'recent' };

/** The reports the viewer may read that match, newest first by receipt. */
export async function searchReports(
  db: Queryable,
  match: ReportMatch,
  scope: SearchScope,
  filters: ReportFilters,
  { offset, limit }: { offset: number; limit: number },
): Promise<ReportRow[]> {
  const matchSql = {
    indicator: `r.id IN (SELECT s.report_id FROM sightings s WHERE s.type = $9 AND s.value = $10)`,
    network: `r.id IN (SELECT s.report_id FROM sightings s
                        WHERE s.type IN ('ipv4', 'ipv6') AND s.type = $9 AND s.value::inet <<= $10::inet)`,
    text:
      match.kind === 'text' && match.scope === 'recent'
        ? `(r.title ILIKE $10 OR r.description ILIKE $10 OR r.labels_text ILIKE $10) AND $9::text IS NOT NULL
           AND r.id IN (SELECT n.id FROM reports n WHERE ${readableReport('n', 1, 2)}
                         ORDER BY n.received_at DESC, n.id DESC LIMIT ${RECENT_TEXT_ROWS})`
        : `(r.title ILIKE $10 OR r.description ILIKE $10 OR r.labels_text ILIKE $10) AND $9::text IS NOT NULL`,
  }[match.kind];
  const [first, second] =
    match.kind === 'indicator'
      ? [match.type, match.value]
      : match.kind === 'network'
        ? [match.type, match.cidr]
        : ['text', match.pattern];
  const { rows } = await db.query<ReportRow>(
    `SELECT r.id, r.title, r.category, r.severity, r.tlp, r.sector, r.organisation_id,
            r.detected_at, r.received_at, r.exercise, r.labels
       FROM reports r
      WHERE ${matchSql} AND ${readableReport('r', 1, 2)} AND ${reportFilters('r', 3)}
        -- One report per source object: its latest version stands for it.
        AND NOT report_is_superseded(r.organisation_id, r.source_id, r.source_version)
      ORDER BY r.received_at DESC, r.id DESC
      OFFSET $7 LIMIT $8`,
    [scope.organisationId, scope.readable, ...filterValues(filters), offset, limit, first, second],
  );
  return rows;
}

/** An alert's latest record with where its triage stands ('new' until an analyst first moves it). */
export interface AlertWithTriage {
  record: AlertRecord;
  triage: TriageStatus;
}

/**
 * Alerts whose record lists any of these indicators (`type:value`), at most
 * `limit`, newest first, with their triage. The caller keeps those whose view lists it.
 */
export async function alertsCarrying(
  db: Queryable,
  keys: readonly string[],
  exercise: boolean,
  limit: number,
): Promise<AlertWithTriage[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query<AlertWithTriage>(
    `SELECT a.record, coalesce(t.status, 'new') AS triage
       FROM alerts a LEFT JOIN alert_triage t ON t.alert_id = a.id
      WHERE record_indicator_keys(a.record -> 'indicators') && $1::text[] AND a.exercise = $2
      ORDER BY a.updated_at DESC, a.id
      LIMIT $3`,
    [keys, exercise, limit],
  );
  return rows;
}

/** Alerts whose (analyst) title holds the text, newest first, with their triage: analysts only. */
export async function alertsTitled(
  db: Queryable,
  match: { pattern: string; scope: 'all' | 'recent' },
  exercise: boolean,
  { offset, limit }: { offset: number; limit: number },
): Promise<AlertWithTriage[]> {
  const recent =
    match.scope === 'recent'
      ? `AND a.id IN (SELECT n.id FROM alerts n ORDER BY n.updated_at DESC, n.id LIMIT ${RECENT_TEXT_ROWS})`
      : '';
  const { rows } = await db.query<AlertWithTriage>(
    `SELECT a.record, coalesce(t.status, 'new') AS triage
       FROM alerts a LEFT JOIN alert_triage t ON t.alert_id = a.id
      WHERE a.record ->> 'title' ILIKE $1 AND a.exercise = $2 ${recent}
      ORDER BY a.updated_at DESC, a.id
      OFFSET $3 LIMIT $4`,
    [match.pattern, exercise, offset, limit],
  );
  return rows;
}

/**
 * Warnings for the viewer (`sector`: null for every one, as
 * `warningSectorFilter` says) that list the indicator or hold the text in
 * title or body, newest first.
 */
export async function searchWarnings(
  db: Queryable,
  match:
    | { kind: 'indicator'; key: string }
    | { kind: 'network'; type: 'ipv4' | 'ipv6'; cidr: string }
    | { kind: 'text'; pattern: string; scope: 'all' | 'recent' },
  sector: Sector | null,
  filters: Pick<ReportFilters, 'exercise' | 'since' | 'until'>,
  { offset, limit }: { offset: number; limit: number },
): Promise<WarningRecord[]> {
  const forViewer = `($1::text IS NULL OR sectors IS NULL OR $1::text = ANY(sectors)) AND exercise = $2`;
  const inTime = `($6::timestamptz IS NULL OR published_at >= $6) AND ($7::timestamptz IS NULL OR published_at < $7)`;
  // A warning's addresses are canonical; the type is tested first (CASE), so no other value is cast.
  const matchSql =
    match.kind === 'indicator'
      ? `record_indicator_keys(record -> 'indicators') && ARRAY[$5::text]`
      : match.kind === 'network'
        ? `EXISTS (SELECT 1 FROM jsonb_array_elements(record -> 'indicators') AS i
                    WHERE CASE WHEN i ->> 'type' = $8::text THEN (i ->> 'value')::inet <<= $5::inet ELSE false END)`
        : `(record ->> 'title' ILIKE $5 OR record ->> 'body' ILIKE $5)` +
          (match.scope === 'recent'
            ? ` AND seq > coalesce((SELECT min(n.seq) FROM (SELECT seq FROM warnings WHERE ${forViewer}
                                   ORDER BY seq DESC LIMIT ${RECENT_TEXT_ROWS}) n), 0) - 1`
            : '');
  const { rows } = await db.query<{ record: WarningRecord }>(
    `SELECT record FROM warnings
      WHERE ${forViewer} AND ${inTime} AND ${matchSql}
      ORDER BY seq DESC
      OFFSET $3 LIMIT $4`,
    [
      sector,
      filters.exercise,
      offset,
      limit,
      match.kind === 'indicator' ? match.key : match.kind === 'network' ? match.cidr : match.pattern,
      filters.since,
      filters.until,
      // Only the network's SQL names $8: PostgreSQL refuses a parameter it cannot type.
      ...(match.kind === 'network' ? [match.type] : []),
    ],
  );
  return rows.map((row) => row.record);
}

/**
 * The local exclusion that keeps each value out of correlation now (exact
 * value, or a network holding an address), by the value's index in `keys`.
 */
export async function exclusionsNow(
  db: Queryable,
  keys: readonly { type: string; value: string }[],
): Promise<Map<number, string>> {
  if (keys.length === 0) return new Map();
  const addresses = keys
    .map((key, index) => ({ ...key, index }))
    .filter((key) => key.type === 'ipv4' || key.type === 'ipv6');
  const { rows } = await db.query<{ i: number; id: string }>(
    `SELECT DISTINCT ON (i) i, id FROM (
       SELECT t.i::int AS i, e.id, e.created_at
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(type, value, i)
         JOIN exclusions e ON e.type = t.type AND e.canonical = t.value
        WHERE e.removed_at IS NULL
       UNION ALL
       SELECT t.i, e.id, e.created_at
         FROM unnest($3::integer[], $4::text[], $5::inet[]) AS t(i, type, value)
         JOIN exclusions e ON e.network >>= t.value AND e.type = t.type
        WHERE e.removed_at IS NULL
     ) found ORDER BY i, created_at, id`,
    [
      keys.map((key) => key.type),
      keys.map((key) => key.value),
      addresses.map((key) => key.index + 1),
      addresses.map((key) => key.type),
      addresses.map((key) => key.value),
    ],
  );
  return new Map(rows.map((row) => [row.i - 1, `local exclusion ${row.id}`]));
}

/** A report the viewer may read: `$org` null (analysts), its own, or others' at a readable level. */
function readableReport(alias: string, orgParameter: number, tlpsParameter: number): string {
  return `($${orgParameter}::text IS NULL OR ${alias}.organisation_id = $${orgParameter}
           OR ${alias}.tlp = ANY($${tlpsParameter}::text[]))`;
}

/** The search filters on a report, from parameter `first` on: exercise, sector, since, until. */
function reportFilters(alias: string, first: number): string {
  return `${alias}.exercise = $${first}
          AND ($${first + 1}::text IS NULL OR ${alias}.sector = $${first + 1})
          AND ($${first + 2}::timestamptz IS NULL OR ${alias}.detected_at >= $${first + 2})
          AND ($${first + 3}::timestamptz IS NULL OR ${alias}.detected_at < $${first + 3})`;
}

function filterValues(filters: ReportFilters): unknown[] {
  return [filters.exercise, filters.sector, filters.since, filters.until];
}
