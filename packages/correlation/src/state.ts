import type { CanonicalIndicator } from '@renkei/indicators';
import type { AlertRecord, ReportCategory, Sector, Severity, Tlp } from '@renkei/schema';

/** What the rules know of a stored report. */
export interface ReportFacts {
  reportId: string;
  organisationId: string;
  sector: Sector;
  /** The report's TLP now. */
  tlp: Tlp;
  severity: Severity;
  category: ReportCategory;
  detectedAt: string;
  receivedAt: string;
  exercise: boolean;
}

/** One report carrying one canonical indicator that no warning list or exclusion suppresses. */
export interface Sighting {
  key: string;
  indicator: CanonicalIndicator;
  report: ReportFacts;
  /** False when the hub derived it (a URL's host) and the report never wrote it itself. */
  written: boolean;
  /** The report's canonical URLs whose host this is. */
  hostOf: readonly string[];
}

export interface WatchlistEntry {
  id: string;
  indicator: CanonicalIndicator;
  createdAt: string;
  expiresAt: string | null;
  removedAt: string | null;
}

/** At most `limit` rows, oldest first; `complete` is false when more exist. */
export interface Bounded<T> {
  rows: T[];
  complete: boolean;
}

/**
 * Everything the rules read. The correlator answers it from rows it read
 * under its locks; tests answer it from memory. Every range is inclusive and
 * in milliseconds since the epoch, by `detectedAt`.
 */
export interface CorrelationState {
  sightings(key: string, exercise: boolean, fromMs: number, toMs: number, limit: number): Bounded<Sighting>;
  sectorReports(
    sector: Sector,
    category: ReportCategory,
    exercise: boolean,
    fromMs: number,
    toMs: number,
    limit: number,
  ): Bounded<ReportFacts>;
  /** Watchlist entries on the indicator, removed and expired ones included (the rule judges). */
  watchlistEntries(key: string): WatchlistEntry[];
  /** The latest version of an alert. */
  alert(correlationKey: string): AlertRecord | undefined;
  /** Whether the indicator has ever been found too common (kept even when it had no alert yet). */
  isTooCommon(key: string, exercise: boolean): boolean;
  /**
   * Whether the alert's latest version was written by the transaction still
   * running (an earlier report of the same chunk): no reader has seen it yet,
   * so new contributions may join it (see `applyDelta`). Absent: never.
   */
  writtenInThisTransaction?(correlationKey: string): boolean;
}
