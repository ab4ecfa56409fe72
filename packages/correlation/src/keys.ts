import { indicatorKey, type CanonicalIndicator } from '@renkei/indicators';
import type { ReportCategory, Sector } from '@renkei/schema';
import { nameBasedId } from './ids.js';

/**
 * Drills run through the real pipeline, so every rule keys its alerts by the
 * exercise flag too: an exercise report can never raise, or join, a real alert.
 */
export function exerciseScope(exercise: boolean): string {
  return exercise ? 'exercise' : 'live';
}

/** What makes two raisings the same alert; the alert id is the name-based UUID of it. */
export const correlationKeys = {
  sharedIndicator: (exercise: boolean, indicator: CanonicalIndicator) =>
    `shared-indicator:${exerciseScope(exercise)}:${indicatorKey(indicator)}`,
  /** A campaign is named by the first (in canonical order) of the indicators two reports share. */
  campaign: (exercise: boolean, anchorKey: string) => `campaign:${exerciseScope(exercise)}:${anchorKey}`,
  sectorSurge: (exercise: boolean, sector: Sector, category: ReportCategory, day: string) =>
    `sector-surge:${exerciseScope(exercise)}:${sector}:${category}:${day}`,
  watchlistMatch: (exercise: boolean, entryId: string) =>
    `watchlist-match:${exerciseScope(exercise)}:${entryId}`,
};

const alertIds = new Map<string, string>();

/**
 * Remembered: every record a report builds names its alert, a SHA-1 each,
 * and in a burst the same few hundred alerts are built again and again.
 * Bounded by emptying it now and then; the ids never change.
 */
export function alertIdFor(correlationKey: string): string {
  let id = alertIds.get(correlationKey);
  if (id === undefined) {
    if (alertIds.size >= 10_000) alertIds.clear();
    id = nameBasedId(correlationKey);
    alertIds.set(correlationKey, id);
  }
  return id;
}

/**
 * The serialisation keys a correlator locks before it reads: every alert a
 * report can change is reached through one of them, and two reports that can
 * affect each other's results always share one (an indicator, or the sector
 * and category), so they are processed one after the other.
 */
export const lockKeys = {
  indicator: (exercise: boolean, key: string) => `indicator:${exerciseScope(exercise)}:${key}`,
  sector: (exercise: boolean, sector: Sector, category: ReportCategory) =>
    `sector:${exerciseScope(exercise)}:${sector}:${category}`,
};
