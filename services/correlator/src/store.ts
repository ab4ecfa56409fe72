import { compareReports, detectedWithin, sightingLimit, type CorrelationSettings } from '@renkei/correlation';
import type { PoolClient, Queryable } from '@renkei/db';
import type {
  Bounded,
  ChunkBase,
  CorrelationState,
  ReportFacts,
  Sighting,
  WatchlistEntry,
} from '@renkei/correlation';
import type { CanonicalIndicator, IndicatorType, Observable, ReadIndicator } from '@renkei/indicators';
import type { AlertRecord, ReportCategory, ReportEnvelope, Sector } from '@renkei/schema';
import type { AlertCache } from './alert-cache.js';
import { insertReports } from './batch-store.js';

export interface KafkaPosition {
  topic: string;
  partition: number;
  offset: string;
}

/** Inserts the report unless its id is already stored; true when this call stored it. */
export async function insertReport(
  db: PoolClient,
  envelope: ReportEnvelope,
  at: KafkaPosition,
): Promise<boolean> {
  // One INSERT for both paths, so a column added to reports is written by both.
  return (await insertReports(db, [{ envelope, at }])).has(envelope.report.id);
}

/** The indicators as written, each with its canonical form (the written value when it has none). */
export async function insertIndicators(
  db: PoolClient,
  reportId: string,
  indicators: readonly (ReadIndicator & { role: string | undefined })[],
): Promise<void> {
  if (indicators.length === 0) return;
  await db.query(
    `INSERT INTO report_indicators (report_id, position, type, value, normalized_value, canonical_type, role)
     SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
    [
      reportId,
      indicators.map((_, position) => position),
      indicators.map((i) => i.type),
      indicators.map((i) => i.value),
      indicators.map((i) => i.canonical?.value ?? i.value),
      indicators.map((i) => i.canonical?.type ?? null),
      indicators.map((i) => i.role ?? null),
    ],
  );
}

export async function insertSightings(
  db: PoolClient,
  report: ReportFacts,
  observables: readonly (Observable & { suppressedBy: string | null })[],
): Promise<void> {
  if (observables.length === 0) return;
  await db.query(
    `INSERT INTO sightings (report_id, type, value, exercise, detected_at, written, host_of, suppressed_by)
     SELECT $1, t.type, t.value, $2, $3, t.written, ARRAY(SELECT jsonb_array_elements_text(t.host_of)), t.suppressed_by
       FROM unnest($4::text[], $5::text[], $6::boolean[], $7::jsonb[], $8::text[])
         AS t(type, value, written, host_of, suppressed_by)`,
    [
      report.reportId,
      report.exercise,
      report.detectedAt,
      observables.map((o) => o.indicator.type),
      observables.map((o) => o.indicator.value),
      observables.map((o) => o.written),
      observables.map((o) => JSON.stringify(o.hostOf)),
      observables.map((o) => o.suppressedBy),
    ],
  );
}

/**
 * Local exclusions covering the observables, as they stood when the hub
 * received the report (so a correlator that lags applies the same ones).
 */
export async function findExclusions(
  db: Queryable,
  observables: readonly Observable[],
  receivedAt: string,
): Promise<Map<string, string>> {
  if (observables.length === 0) return new Map();
  const ips = observables.filter((o) => o.indicator.type === 'ipv4' || o.indicator.type === 'ipv6');
  const { rows } = await db.query<{ type: string; value: string; id: string }>(
    `SELECT DISTINCT ON (t.type, t.value) t.type, t.value, e.id
       FROM unnest($1::text[], $2::text[]) AS t(type, value)
       JOIN exclusions e ON e.type = t.type AND e.canonical = t.value
      WHERE e.created_at <= $3 AND (e.removed_at IS NULL OR e.removed_at > $3)
     UNION ALL
     SELECT DISTINCT ON (t.type, t.value) t.type, host(t.value), e.id
       FROM unnest($4::text[], $5::inet[]) AS t(type, value)
       JOIN exclusions e ON e.network >>= t.value AND e.type = t.type
      WHERE e.created_at <= $3 AND (e.removed_at IS NULL OR e.removed_at > $3)`,
    [
      observables.map((o) => o.indicator.type),
      observables.map((o) => o.indicator.value),
      receivedAt,
      ips.map((o) => o.indicator.type),
      ips.map((o) => o.indicator.value),
    ],
  );
  return new Map(rows.map((row) => [`${row.type}:${row.value}`, `local exclusion ${row.id}`]));
}

export async function takeAdvisoryLocks(db: PoolClient, lockIds: string[]): Promise<void> {
  // One statement, locks taken in array order (the caller sorts them).
  await db.query(
    `SELECT pg_advisory_xact_lock(id) FROM unnest($1::bigint[]) WITH ORDINALITY AS t(id, n) ORDER BY n`,
    [lockIds],
  );
}

interface SightingRow {
  i: number;
  report_id: string;
  type: IndicatorType;
  value: string;
  written: boolean;
  host_of: string[];
  organisation_id: string;
  sector: Sector;
  tlp: ReportFacts['tlp'];
  severity: ReportFacts['severity'];
  category: ReportCategory;
  detected_at: string;
  received_at: string;
  exercise: boolean;
}

const REPORT_COLUMNS = `r.organisation_id, r.sector, r.tlp, r.severity, r.category, r.detected_at, r.received_at, r.exercise`;

function factsOf(row: Omit<SightingRow, 'i' | 'type' | 'value' | 'written' | 'host_of'>): ReportFacts {
  return {
    reportId: row.report_id,
    organisationId: row.organisation_id,
    sector: row.sector,
    tlp: row.tlp,
    severity: row.severity,
    category: row.category,
    detectedAt: row.detected_at,
    receivedAt: row.received_at,
    exercise: row.exercise,
  };
}

export interface SectorQuery {
  sector: Sector;
  category: ReportCategory;
  exercise: boolean;
  fromMs: number;
  toMs: number;
  limit: number;
}

export interface SightingQuery {
  indicator: CanonicalIndicator;
  key: string;
  exercise: boolean;
  fromMs: number;
  toMs: number;
  limit: number;
}

/** The sightings the rules read around one report's observable: one window each side. */
export function sightingQuery(
  report: ReportFacts,
  sighting: Pick<Sighting, 'indicator' | 'key'>,
  settings: CorrelationSettings,
): SightingQuery {
  const t = Date.parse(report.detectedAt);
  return {
    indicator: sighting.indicator,
    key: sighting.key,
    exercise: report.exercise,
    fromMs: t - settings.windowMs,
    toMs: t + settings.windowMs,
    limit: sightingLimit(settings),
  };
}

/** The reports of its sector and category the surge rule reads around one report: one period each side. */
export function sectorQuery(report: ReportFacts, settings: CorrelationSettings): SectorQuery {
  const t = Date.parse(report.detectedAt);
  return {
    sector: report.sector,
    category: report.category,
    exercise: report.exercise,
    fromMs: t - settings.surgePeriodMs,
    toMs: t + settings.surgePeriodMs,
    limit: sightingLimit(settings),
  };
}

/** Up to `limit + 1` sightings in each query's range, oldest first; one statement for all. */
async function readSightings(db: Queryable, queries: readonly SightingQuery[]): Promise<Sighting[][]> {
  if (queries.length === 0) return [];
  const { rows } = await db.query<SightingRow>(
    `SELECT q.i::int AS i, s.report_id, s.type, s.value, s.written, s.host_of, ${REPORT_COLUMNS}
       FROM unnest($1::text[], $2::text[], $3::boolean[], $4::timestamptz[], $5::timestamptz[], $6::int[])
            WITH ORDINALITY AS q(type, value, exercise, from_at, to_at, lim, i)
      CROSS JOIN LATERAL (
        SELECT s.report_id, s.type, s.value, s.written, s.host_of, s.detected_at
          FROM sightings s
         WHERE s.exercise = q.exercise AND s.type = q.type AND s.value = q.value
           AND s.suppressed_by IS NULL AND s.detected_at BETWEEN q.from_at AND q.to_at
         ORDER BY s.detected_at, s.report_id
         LIMIT q.lim + 1
      ) s
      JOIN reports r ON r.id = s.report_id`,
    [
      queries.map((q) => q.indicator.type),
      queries.map((q) => q.indicator.value),
      queries.map((q) => q.exercise),
      queries.map((q) => new Date(q.fromMs).toISOString()),
      queries.map((q) => new Date(q.toMs).toISOString()),
      queries.map((q) => q.limit),
    ],
  );
  const answers = queries.map((): Sighting[] => []);
  for (const row of rows) {
    const query = queries[row.i - 1]!;
    answers[row.i - 1]!.push({
      key: query.key,
      indicator: query.indicator,
      report: factsOf(row),
      written: row.written,
      hostOf: row.host_of,
    });
  }
  return answers;
}

/** Up to `limit + 1` reports in each query's range, oldest first, leaving out `excluding`; one statement for all. */
async function readSectorReports(
  db: Queryable,
  queries: readonly SectorQuery[],
  excluding: readonly string[],
): Promise<ReportFacts[][]> {
  if (queries.length === 0) return [];
  const { rows } = await db.query<SightingRow>(
    `SELECT q.i::int AS i, r.report_id, r.organisation_id, r.sector, r.tlp, r.severity, r.category,
            r.detected_at, r.received_at, r.exercise
       FROM unnest($1::text[], $2::text[], $3::boolean[], $4::timestamptz[], $5::timestamptz[], $6::int[])
            WITH ORDINALITY AS q(sector, category, exercise, from_at, to_at, lim, i)
      CROSS JOIN LATERAL (
        SELECT r.id AS report_id, ${REPORT_COLUMNS} FROM reports r
         WHERE r.sector = q.sector AND r.category = q.category AND r.exercise = q.exercise
           AND r.detected_at BETWEEN q.from_at AND q.to_at AND r.id <> ALL($7::uuid[])
         ORDER BY r.detected_at, r.id
         LIMIT q.lim + 1
      ) r
      ORDER BY q.i, r.detected_at, r.report_id`,
    [
      queries.map((q) => q.sector),
      queries.map((q) => q.category),
      queries.map((q) => q.exercise),
      queries.map((q) => new Date(q.fromMs).toISOString()),
      queries.map((q) => new Date(q.toMs).toISOString()),
      queries.map((q) => q.limit),
      excluding,
    ],
  );
  const answers = queries.map((): ReportFacts[] => []);
  for (const row of rows) answers[row.i - 1]!.push(factsOf(row));
  return answers;
}

/**
 * Answers each range from the rows read once for its group's union, or, where
 * a union holds more rows than one range may read, reads those ranges on
 * their own (the rules' limit must apply to each range, not to the union).
 */
async function answerFromUnions<Range extends { fromMs: number; toMs: number; limit: number }, Row>({
  groups,
  read,
  order,
  detectedAt,
  answer,
}: {
  groups: readonly { union: Range; ranges: Range[] }[];
  read: (ranges: Range[]) => Promise<Row[][]>;
  /** Puts a union's rows in the order a range's answer must have (when the read does not). */
  order?: (rows: Row[]) => void;
  detectedAt: (row: Row) => string;
  answer: (range: Range, rows: Row[]) => void;
}): Promise<void> {
  const unions = await read(groups.map((group) => group.union));
  const alone: Range[] = [];
  groups.forEach((group, index) => {
    const rows = unions[index]!;
    if (rows.length > group.union.limit) {
      alone.push(...group.ranges);
      return;
    }
    order?.(rows);
    for (const range of group.ranges)
      answer(
        range,
        rows.filter((row) => detectedWithin(detectedAt(row), range.fromMs, range.toMs)),
      );
  });
  const answers = await read(alone);
  alone.forEach((range, index) => answer(range, answers[index]!));
}

/**
 * What the rules will ask, read in a few statements under the caller's
 * locks. Each answer holds one row more than asked, to tell whether more exist.
 */
export class Snapshot implements CorrelationState, ChunkBase {
  private readonly sightingAnswers = new Map<string, Sighting[]>();
  private readonly sectorAnswers = new Map<string, ReportFacts[]>();
  private readonly entries = new Map<string, WatchlistEntry[]>();
  private readonly alerts = new Map<string, AlertRecord>();
  private readonly tooCommon = new Set<string>();
  private readonly loadedAlertKeys = new Set<string>();

  /**
   * Reads each indicator once for all the ranges asked of it (the union of
   * the reports' windows), and answers every range from those rows. In a
   * burst the reports carrying a common indicator each asked for nearly the
   * same rows: a chunk read them once per report. Only where the union holds
   * more rows than one range may read (an indicator too common anyway) is
   * each range read on its own, as the rules' limit needs.
   */
  async loadSightings(db: Queryable, queries: readonly SightingQuery[]): Promise<void> {
    if (queries.length === 0) return;
    const byIndicator = new Map<string, { union: SightingQuery; ranges: SightingQuery[] }>();
    for (const query of queries) {
      const id = `${query.exercise}|${query.key}|${query.limit}`;
      const group = byIndicator.get(id);
      if (!group) {
        byIndicator.set(id, { union: { ...query }, ranges: [query] });
        continue;
      }
      group.union.fromMs = Math.min(group.union.fromMs, query.fromMs);
      group.union.toMs = Math.max(group.union.toMs, query.toMs);
      group.ranges.push(query);
    }
    await answerFromUnions({
      groups: [...byIndicator.values()],
      read: (ranges) => readSightings(db, ranges),
      order: (rows) => rows.sort((a, b) => compareReports(a.report, b.report)),
      detectedAt: (row) => row.report.detectedAt,
      answer: (range, rows) => this.sightingAnswers.set(sightingQueryKey(range), rows),
    });
  }

  async loadSectorReports(
    db: Queryable,
    query: {
      sector: Sector;
      category: ReportCategory;
      exercise: boolean;
      fromMs: number;
      toMs: number;
      limit: number;
    },
  ): Promise<void> {
    const { rows } = await db.query<SightingRow>(
      `SELECT r.id AS report_id, ${REPORT_COLUMNS} FROM reports r
        WHERE r.sector = $1 AND r.category = $2 AND r.exercise = $3 AND r.detected_at BETWEEN $4 AND $5
        ORDER BY r.detected_at, r.id
        LIMIT $6`,
      [
        query.sector,
        query.category,
        query.exercise,
        new Date(query.fromMs).toISOString(),
        new Date(query.toMs).toISOString(),
        query.limit + 1,
      ],
    );
    this.sectorAnswers.set(sectorQueryKey(query), rows.map(factsOf));
  }

  /**
   * Many sector queries, the overlapping ranges of a sector and category read
   * once for their union, as `loadSightings` does: in a surge the reports of a
   * chunk each asked for their own two periods, mostly of the same rows.
   * Where a union holds more rows than one range may read, each of its ranges
   * is read on its own. `excluding` names reports this transaction inserted but whose rules
   * have not run yet: a chunk adds them itself, each after the reports before it.
   */
  async loadSectorReportsMany(
    db: Queryable,
    queries: readonly SectorQuery[],
    excluding: readonly string[],
  ): Promise<void> {
    if (queries.length === 0) return;
    // Only overlapping ranges are merged: the periods around a sector's reports
    // are short, and a union across a gap would read the reports in the gap.
    const bySector = new Map<string, SectorQuery[]>();
    for (const query of queries) {
      const id = `${query.exercise}|${query.sector}|${query.category}|${query.limit}`;
      const list = bySector.get(id);
      if (list) list.push(query);
      else bySector.set(id, [query]);
    }
    const groups: { union: SectorQuery; ranges: SectorQuery[] }[] = [];
    for (const list of bySector.values()) {
      list.sort((a, b) => a.fromMs - b.fromMs);
      let current: { union: SectorQuery; ranges: SectorQuery[] } | undefined;
      for (const query of list) {
        if (current && query.fromMs <= current.union.toMs) {
          current.union.toMs = Math.max(current.union.toMs, query.toMs);
          current.ranges.push(query);
          continue;
        }
        current = { union: { ...query }, ranges: [query] };
        groups.push(current);
      }
    }
    await answerFromUnions({
      groups,
      read: (ranges) => readSectorReports(db, ranges, excluding),
      detectedAt: (row) => row.detectedAt,
      answer: (range, rows) => this.sectorAnswers.set(sectorQueryKey(range), rows),
    });
  }

  async loadWatchlistEntries(
    db: Queryable,
    keys: readonly { key: string; indicator: CanonicalIndicator }[],
  ): Promise<WatchlistEntry[]> {
    for (const { key } of keys) this.entries.set(key, []);
    if (keys.length === 0) return [];
    const { rows } = await db.query<WatchlistRow>(
      `SELECT ${WATCHLIST_COLUMNS} FROM watchlist_entries w
        WHERE (w.canonical_type, w.canonical) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [keys.map((k) => k.indicator.type), keys.map((k) => k.indicator.value)],
    );
    const entries = rows.map(entryOf);
    for (const entry of entries)
      this.entries.get(`${entry.indicator.type}:${entry.indicator.value}`)!.push(entry);
    return entries;
  }

  async loadTooCommon(
    db: Queryable,
    exercise: boolean,
    indicators: readonly CanonicalIndicator[],
  ): Promise<void> {
    if (indicators.length === 0) return;
    const { rows } = await db.query<{ type: string; value: string }>(
      `SELECT type, value FROM too_common_indicators
        WHERE exercise = $1 AND (type, value) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
      [exercise, indicators.map((i) => i.type), indicators.map((i) => i.value)],
    );
    for (const row of rows) this.tooCommon.add(`${exercise}:${row.type}:${row.value}`);
  }

  /**
   * The latest versions, locked until commit: no other transaction writes them meanwhile.
   * With a cache, a row whose version the cache holds (same version, creation and
   * update times: see `AlertCache`) sends no record back; the others are read and
   * remembered (committed rows, so whatever this transaction does next).
   */
  async loadAlerts(db: Queryable, correlationKeys: readonly string[], cache?: AlertCache): Promise<void> {
    for (const key of correlationKeys) this.loadedAlertKeys.add(key);
    if (correlationKeys.length === 0) return;
    const held = cache
      ? correlationKeys.flatMap((key) => {
          const record = cache.get(key);
          return record ? [{ key, record }] : [];
        })
      : [];
    const { rows } = await db.query<{ correlation_key: string; record: AlertRecord | null }>(
      `SELECT a.correlation_key,
              CASE WHEN a.version = c.version AND a.created_at = c.created_at AND a.updated_at = c.updated_at
                   THEN NULL ELSE a.record END AS record
         FROM alerts a
         LEFT JOIN unnest($2::text[], $3::integer[], $4::timestamptz[], $5::timestamptz[])
                AS c(correlation_key, version, created_at, updated_at)
           ON c.correlation_key = a.correlation_key
        WHERE a.correlation_key = ANY($1::text[])
        ORDER BY a.id FOR UPDATE OF a`,
      [
        correlationKeys,
        held.map(({ key }) => key),
        held.map(({ record }) => record.version),
        held.map(({ record }) => record.createdAt),
        held.map(({ record }) => record.updatedAt),
      ],
    );
    const heldRecords = new Map(held.map(({ key, record }) => [key, record]));
    const read: { correlationKey: string; record: AlertRecord }[] = [];
    for (const row of rows) {
      const record = row.record ?? heldRecords.get(row.correlation_key)!;
      if (row.record) read.push({ correlationKey: row.correlation_key, record: row.record });
      this.alerts.set(row.correlation_key, record);
    }
    if (cache) {
      // An alert the cache holds but the store no longer has (purged) is dropped.
      const present = new Set(rows.map((row) => row.correlation_key));
      for (const { key } of held) if (!present.has(key)) cache.forget(key);
      cache.remember(read);
    }
  }

  sightings(key: string, exercise: boolean, fromMs: number, toMs: number, limit: number): Bounded<Sighting> {
    return bounded(
      this.sightingAnswers.get(sightingQueryKey({ key, exercise, fromMs, toMs, limit })),
      limit,
      key,
    );
  }

  sectorReports(
    sector: Sector,
    category: ReportCategory,
    exercise: boolean,
    fromMs: number,
    toMs: number,
    limit: number,
  ): Bounded<ReportFacts> {
    const query = { sector, category, exercise, fromMs, toMs, limit };
    return bounded(this.sectorAnswers.get(sectorQueryKey(query)), limit, `${sector}/${category}`);
  }

  sightingRows(key: string, exercise: boolean, fromMs: number, toMs: number, limit: number): Sighting[] {
    const rows = this.sightingAnswers.get(sightingQueryKey({ key, exercise, fromMs, toMs, limit }));
    if (!rows) throw new Error(`${key}: the rules asked for sightings that were not read`);
    return rows;
  }

  sectorRows(
    sector: Sector,
    category: ReportCategory,
    exercise: boolean,
    fromMs: number,
    toMs: number,
    limit: number,
  ): ReportFacts[] {
    const rows = this.sectorAnswers.get(sectorQueryKey({ sector, category, exercise, fromMs, toMs, limit }));
    if (!rows) throw new Error(`${sector}/${category}: the rules asked for reports that were not read`);
    return rows;
  }

  watchlistEntries(key: string): WatchlistEntry[] {
    const entries = this.entries.get(key);
    if (!entries) throw new Error(`watchlist entries for ${key} were not read`);
    return entries;
  }

  alert(correlationKey: string): AlertRecord | undefined {
    if (!this.loadedAlertKeys.has(correlationKey)) throw new Error(`alert ${correlationKey} was not read`);
    return this.alerts.get(correlationKey);
  }

  isTooCommon(key: string, exercise: boolean): boolean {
    return this.tooCommon.has(`${exercise}:${key}`);
  }

  /** Keeps the snapshot current when a transaction writes two versions of one alert. */
  wrote(correlationKey: string, record: AlertRecord): void {
    this.alerts.set(correlationKey, record);
  }
}

// The rules must ask exactly what was read: a mismatch is a bug, not a miss.
function bounded<T>(rows: T[] | undefined, limit: number, what: string): Bounded<T> {
  if (!rows) throw new Error(`${what}: the rules asked for rows that were not read`);
  return { rows: rows.slice(0, limit), complete: rows.length <= limit };
}

function sightingQueryKey(q: {
  key: string;
  exercise: boolean;
  fromMs: number;
  toMs: number;
  limit: number;
}): string {
  return `${q.exercise}|${q.key}|${q.fromMs}|${q.toMs}|${q.limit}`;
}

function sectorQueryKey(q: {
  sector: string;
  category: string;
  exercise: boolean;
  fromMs: number;
  toMs: number;
  limit: number;
}): string {
  return `${q.exercise}|${q.sector}|${q.category}|${q.fromMs}|${q.toMs}|${q.limit}`;
}

interface WatchlistRow {
  id: string;
  canonical_type: IndicatorType;
  canonical: string;
  created_at: string;
  expires_at: string | null;
  removed_at: string | null;
}

const WATCHLIST_COLUMNS = `w.id, w.canonical_type, w.canonical, w.created_at, w.expires_at, w.removed_at`;

function entryOf(row: WatchlistRow): WatchlistEntry {
  return {
    id: row.id,
    indicator: { type: row.canonical_type, value: row.canonical },
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    removedAt: row.removed_at,
  };
}

/** Entries whose earlier matches have not been looked for yet, oldest first, each claimed by one correlator. */
export async function claimEntryToBackfill(db: PoolClient): Promise<WatchlistEntry | undefined> {
  const { rows } = await db.query<WatchlistRow>(
    `SELECT ${WATCHLIST_COLUMNS} FROM watchlist_entries w
      WHERE w.backfilled_at IS NULL
      ORDER BY w.created_at
      LIMIT 1
      FOR UPDATE SKIP LOCKED`,
  );
  return rows[0] && entryOf(rows[0]);
}

export async function markBackfilled(db: PoolClient, entryId: string): Promise<void> {
  await db.query(`UPDATE watchlist_entries SET backfilled_at = now() WHERE id = $1`, [entryId]);
}

export async function markTooCommon(
  db: PoolClient,
  indicators: readonly { indicator: CanonicalIndicator; exercise: boolean }[],
): Promise<void> {
  if (indicators.length === 0) return;
  await db.query(
    `INSERT INTO too_common_indicators (exercise, type, value)
     SELECT * FROM unnest($1::boolean[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
    [
      indicators.map((i) => i.exercise),
      indicators.map((i) => i.indicator.type),
      indicators.map((i) => i.indicator.value),
    ],
  );
}

/**
 * Writes a new alert version in the caller's transaction. Its feed position
 * comes later, from the sequencer, so positions commit in order.
 */
export async function writeAlertVersion(
  db: PoolClient,
  correlationKey: string,
  record: AlertRecord,
  causedByReportId: string | null,
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
