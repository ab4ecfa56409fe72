import type { AlertRecord, ReportCategory, Sector } from '@renkei/schema';
import type { AlertWrite } from './build.js';
import { backfillWatchlistEntry, correlateReport, type IncomingReport } from './engine.js';
import type { CorrelationSettings } from './settings.js';
import type { Bounded, CorrelationState, ReportFacts, Sighting, WatchlistEntry } from './state.js';

/**
 * The rules' state held in memory, with the store's semantics: what the
 * correlator keeps in PostgreSQL, without it. Tests drive the rules through
 * it, in any order of reports, and compare the alerts.
 */
export class MemoryCorrelationState implements CorrelationState {
  readonly reports: ReportFacts[] = [];
  readonly allSightings: Sighting[] = [];
  readonly alerts = new Map<string, AlertRecord>();
  readonly versions: AlertWrite[] = [];
  readonly entries: WatchlistEntry[] = [];
  readonly tooCommonKeys = new Set<string>();

  constructor(readonly settings: CorrelationSettings) {}

  /** Stores a report, as the correlator's transaction does, and writes the versions it causes. */
  process(incoming: IncomingReport): AlertWrite[] {
    if (this.reports.some((r) => r.reportId === incoming.report.reportId)) return [];
    this.reports.push(incoming.report);
    this.allSightings.push(...incoming.sightings);
    const outcome = correlateReport(incoming, this, this.settings);
    for (const { key, exercise } of outcome.tooCommon) this.tooCommonKeys.add(`${exercise}:${key}`);
    this.write(outcome.writes);
    return outcome.writes;
  }

  addWatchlistEntry(entry: WatchlistEntry): AlertWrite[] {
    this.entries.push(entry);
    const writes = backfillWatchlistEntry(entry, this, this.settings);
    this.write(writes);
    return writes;
  }

  private write(writes: readonly AlertWrite[]): void {
    for (const write of writes) {
      const previous = this.alerts.get(write.correlationKey);
      if ((previous?.version ?? 0) + 1 !== write.record.version) {
        throw new Error(
          `version ${write.record.version} of ${write.correlationKey} after ${previous?.version}`,
        );
      }
      this.alerts.set(write.correlationKey, write.record);
      this.versions.push(write);
    }
  }

  sightings(key: string, exercise: boolean, fromMs: number, toMs: number, limit: number): Bounded<Sighting> {
    const rows = this.allSightings
      .filter((s) => s.key === key && s.report.exercise === exercise)
      .filter((s) => within(s.report.detectedAt, fromMs, toMs))
      .sort(byDetection);
    return { rows: rows.slice(0, limit), complete: rows.length <= limit };
  }

  sectorReports(
    sector: Sector,
    category: ReportCategory,
    exercise: boolean,
    fromMs: number,
    toMs: number,
    limit: number,
  ): Bounded<ReportFacts> {
    const rows = this.reports
      .filter((r) => r.sector === sector && r.category === category && r.exercise === exercise)
      .filter((r) => within(r.detectedAt, fromMs, toMs))
      .sort((a, b) => byDetection({ report: a }, { report: b }));
    return { rows: rows.slice(0, limit), complete: rows.length <= limit };
  }

  watchlistEntries(key: string): WatchlistEntry[] {
    return this.entries.filter((entry) => `${entry.indicator.type}:${entry.indicator.value}` === key);
  }

  alert(correlationKey: string): AlertRecord | undefined {
    return this.alerts.get(correlationKey);
  }

  isTooCommon(key: string, exercise: boolean): boolean {
    return this.tooCommonKeys.has(`${exercise}:${key}`);
  }
}

function within(detectedAt: string, fromMs: number, toMs: number): boolean {
  const t = Date.parse(detectedAt);
  return t >= fromMs && t <= toMs;
}

function byDetection(a: { report: ReportFacts }, b: { report: ReportFacts }): number {
  const byTime = Date.parse(a.report.detectedAt) - Date.parse(b.report.detectedAt);
  if (byTime !== 0) return byTime;
  return a.report.reportId < b.report.reportId ? -1 : a.report.reportId > b.report.reportId ? 1 : 0;
}
