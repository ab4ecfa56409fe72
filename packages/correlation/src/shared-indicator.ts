import type { AlertContribution, AlertIndicator, AlertRecord, IndicatorType } from '@renkei/schema';
import { nameBasedId } from './ids.js';
import { highestSeverity, mostRestrictiveTlp } from './order.js';

/** The alert a rule wants to exist; the store gives it a feed cursor when it writes it. */
export type AlertDraft = Omit<AlertRecord, 'schema' | 'cursor'>;

export const SHARED_INDICATOR = {
  kind: 'shared-indicator',
  /** Reports from one organisation never correlate with each other, however many. */
  minimumOrganisations: 2,
} as const;

/**
 * Drills run through the real pipeline, so exercise reports correlate only with
 * exercise reports: a drill can never raise, or join, a real alert.
 */
export function sharedIndicatorKey(exercise: boolean, type: IndicatorType, normalizedValue: string): string {
  return `${SHARED_INDICATOR.kind}:${exercise ? 'exercise' : 'live'}:${type}:${normalizedValue}`;
}

export interface SharedIndicatorInput {
  indicator: { type: IndicatorType; value: string };
  exercise: boolean;
  /** Every report, this one included, that carries the indicator (same exercise flag). */
  sightings: readonly AlertContribution[];
  /** The latest version of this alert, if it exists. */
  previous: Pick<AlertRecord, 'version' | 'createdAt' | 'contributions'> | undefined;
  now: string;
}

/**
 * Rule: the same indicator reported by two or more distinct organisations.
 * Returns the next version of the alert, or undefined when there is nothing
 * new to say (too few organisations, or the same reports as last time).
 */
export function evaluateSharedIndicator(input: SharedIndicatorInput): AlertDraft | undefined {
  const contributions = uniqueByReport(input.sightings).sort(byReceivedThenId);
  const organisations = new Set(contributions.map((c) => c.organisationId));
  if (organisations.size < SHARED_INDICATOR.minimumOrganisations) return undefined;
  if (input.previous && sameReports(input.previous.contributions, contributions)) return undefined;

  const key = sharedIndicatorKey(input.exercise, input.indicator.type, input.indicator.value);
  const indicators: AlertIndicator[] = [{ type: input.indicator.type, value: input.indicator.value }];
  const sectors = [...new Set(contributions.map((c) => c.sector))].sort();
  return {
    id: nameBasedId(key),
    version: (input.previous?.version ?? 0) + 1,
    kind: SHARED_INDICATOR.kind,
    severity: highestSeverity(contributions.map((c) => c.severity)),
    tlp: mostRestrictiveTlp(contributions.map((c) => c.tlp)),
    title: `${input.exercise ? '[EXERCISE] ' : ''}${input.indicator.type} ${input.indicator.value} reported by ${organisations.size} organisations in ${sectors.length} ${sectors.length === 1 ? 'sector' : 'sectors'}`,
    indicators,
    sectors,
    organisationCount: organisations.size,
    contributions,
    createdAt: input.previous?.createdAt ?? input.now,
    updatedAt: input.now,
    exercise: input.exercise,
  };
}

function uniqueByReport(sightings: readonly AlertContribution[]): AlertContribution[] {
  const byId = new Map<string, AlertContribution>();
  for (const sighting of sightings) if (!byId.has(sighting.reportId)) byId.set(sighting.reportId, sighting);
  return [...byId.values()];
}

/** By instant (offsets and precision vary between producers), then id, so the order is total. */
function byReceivedThenId(a: AlertContribution, b: AlertContribution): number {
  const byTime = Date.parse(a.receivedAt) - Date.parse(b.receivedAt);
  if (byTime !== 0) return byTime;
  return a.reportId < b.reportId ? -1 : a.reportId > b.reportId ? 1 : 0;
}

function sameReports(previous: readonly AlertContribution[], next: readonly AlertContribution[]): boolean {
  if (previous.length !== next.length) return false;
  const ids = new Set(previous.map((c) => c.reportId));
  return next.every((c) => ids.has(c.reportId));
}
