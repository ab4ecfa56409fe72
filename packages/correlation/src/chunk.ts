import type { AlertRecord, ReportCategory, Sector } from '@renkei/schema';
import { compareReports, type AlertWrite } from './build.js';
import { correlateReport, type CorrelationOutcome, type IncomingReport } from './engine.js';
import type { CorrelationSettings } from './settings.js';
import type { Bounded, CorrelationState, ReportFacts, Sighting, WatchlistEntry } from './state.js';

/**
 * What the store held before a chunk of reports, read once for the whole
 * chunk under its locks. Row answers are raw: up to `limit + 1` rows, oldest
 * first, so that merging the chunk's own rows in can still tell whether more
 * exist than the rules may read.
 */
export interface ChunkBase {
  sightingRows(
    key: string,
    exercise: boolean,
    fromMs: number,
    toMs: number,
    limit: number,
  ): readonly Sighting[];
  sectorRows(
    sector: Sector,
    category: ReportCategory,
    exercise: boolean,
    fromMs: number,
    toMs: number,
    limit: number,
  ): readonly ReportFacts[];
  watchlistEntries(key: string): WatchlistEntry[];
  alert(correlationKey: string): AlertRecord | undefined;
  isTooCommon(key: string, exercise: boolean): boolean;
}

/**
 * Runs the rules over a chunk of new reports, one after the other in the
 * order given (offset order), each against the store as it stood before the
 * chunk plus the chunk's earlier reports and the versions they wrote: exactly
 * what each would have read in a transaction of its own, one after the other.
 * The alerts end as they would have; only the versions differ, since the
 * chunk is one transaction: an alert that several of its reports join gets
 * one new version, not one per report (`chunkWrites` lists them).
 *
 * Why merging is exact: the first `limit + 1` rows of (stored ∪ chunk) are
 * among the first `limit + 1` stored rows and the chunk's rows, so the base
 * need not hold more than a report alone would have read.
 */
export function correlateChunk(
  reports: readonly IncomingReport[],
  base: ChunkBase,
  settings: CorrelationSettings,
): CorrelationOutcome[] {
  const state = new ChunkState(base);
  return reports.map((incoming) => {
    state.add(incoming);
    const outcome = correlateReport(incoming, state, settings);
    state.applied(outcome);
    return outcome;
  });
}

/**
 * The versions a chunk stores, in order: of the writes its reports made to
 * one version of an alert (each report amending it), the last.
 */
export function chunkWrites(outcomes: readonly CorrelationOutcome[]): AlertWrite[] {
  const byVersion = new Map<string, AlertWrite>();
  for (const write of outcomes.flatMap((outcome) => outcome.writes)) {
    // A Map keeps the first insertion's place: versions stay in the order they were made.
    byVersion.set(`${write.correlationKey}|${write.record.version}`, write);
  }
  return [...byVersion.values()];
}

class ChunkState implements CorrelationState {
  // Each with its detection time parsed once: the rules ask about every one again per later report.
  private readonly sightingsByKey = new Map<string, { row: Sighting; t: number }[]>();
  private readonly reportsBySector = new Map<string, { row: ReportFacts; t: number }[]>();
  /** The versions the chunk's reports wrote, the latest of each alert. */
  private readonly alerts = new Map<string, AlertRecord>();
  private readonly tooCommon = new Set<string>();

  constructor(private readonly base: ChunkBase) {}

  /** Stores a report of the chunk, as its own transaction would before reading. */
  add({ report, sightings }: IncomingReport): void {
    const t = Date.parse(report.detectedAt);
    for (const sighting of sightings) {
      const key = `${report.exercise}|${sighting.key}`;
      const list = this.sightingsByKey.get(key) ?? [];
      list.push({ row: sighting, t });
      this.sightingsByKey.set(key, list);
    }
    const sectorKey = `${report.exercise}|${report.sector}|${report.category}`;
    const list = this.reportsBySector.get(sectorKey) ?? [];
    list.push({ row: report, t });
    this.reportsBySector.set(sectorKey, list);
  }

  /** Keeps what a report wrote, for the reports after it. */
  applied(outcome: CorrelationOutcome): void {
    for (const { key, exercise } of outcome.tooCommon) this.tooCommon.add(`${exercise}|${key}`);
    for (const write of outcome.writes) this.alerts.set(write.correlationKey, write.record);
  }

  sightings(key: string, exercise: boolean, fromMs: number, toMs: number, limit: number): Bounded<Sighting> {
    const own = within(this.sightingsByKey.get(`${exercise}|${key}`), fromMs, toMs);
    return merged(this.base.sightingRows(key, exercise, fromMs, toMs, limit), own, limit, (s) => s.report);
  }

  sectorReports(
    sector: Sector,
    category: ReportCategory,
    exercise: boolean,
    fromMs: number,
    toMs: number,
    limit: number,
  ): Bounded<ReportFacts> {
    const own = within(this.reportsBySector.get(`${exercise}|${sector}|${category}`), fromMs, toMs);
    return merged(
      this.base.sectorRows(sector, category, exercise, fromMs, toMs, limit),
      own,
      limit,
      (r) => r,
    );
  }

  watchlistEntries(key: string): WatchlistEntry[] {
    return this.base.watchlistEntries(key);
  }

  alert(correlationKey: string): AlertRecord | undefined {
    return this.alerts.has(correlationKey)
      ? this.alerts.get(correlationKey)
      : this.base.alert(correlationKey);
  }

  isTooCommon(key: string, exercise: boolean): boolean {
    return this.tooCommon.has(`${exercise}|${key}`) || this.base.isTooCommon(key, exercise);
  }

  writtenInThisTransaction(correlationKey: string): boolean {
    return this.alerts.has(correlationKey);
  }
}

function within<T>(rows: readonly { row: T; t: number }[] | undefined, fromMs: number, toMs: number): T[] {
  const found: T[] = [];
  for (const { row, t } of rows ?? []) if (t >= fromMs && t <= toMs) found.push(row);
  return found;
}

function merged<T>(
  stored: readonly T[],
  own: readonly T[],
  limit: number,
  factsOf: (row: T) => ReportFacts,
): Bounded<T> {
  const rows = own.length === 0 ? [...stored] : [...stored, ...own];
  if (own.length > 0) rows.sort((a, b) => compareReports(factsOf(a), factsOf(b)));
  return { rows: rows.slice(0, limit), complete: rows.length <= limit };
}

/** Whether a detection time lies in a range the rules ask about (inclusive, milliseconds). */
export function detectedWithin(detectedAt: string, fromMs: number, toMs: number): boolean {
  const t = Date.parse(detectedAt);
  return t >= fromMs && t <= toMs;
}
