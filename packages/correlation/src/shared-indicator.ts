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

/** A report that carries the indicator, before an alert version includes it. */
export type Sighting = Omit<AlertContribution, 'indicators' | 'addedInVersion'>;

export interface SharedIndicatorInput {
  indicator: { type: IndicatorType; value: string };
  exercise: boolean;
  /** Every report, this one included, that carries the indicator (same exercise flag). */
  sightings: readonly Sighting[];
  /** The latest version of this alert, if it exists. */
  previous: Pick<AlertRecord, 'version' | 'createdAt' | 'contributions' | 'history'> | undefined;
  now: string;
}

/**
 * Rule: the same indicator reported by two or more distinct organisations.
 * Returns the next version of the alert, or undefined when there is nothing
 * new to say (too few organisations, or the same reports as last time).
 */
export function evaluateSharedIndicator(input: SharedIndicatorInput): AlertDraft | undefined {
  const sightings = uniqueByReport(input.sightings).sort(byReceivedThenId);
  const organisations = new Set(sightings.map((c) => c.organisationId));
  if (organisations.size < SHARED_INDICATOR.minimumOrganisations) return undefined;
  if (input.previous && sameReports(input.previous.contributions, sightings)) return undefined;

  const version = (input.previous?.version ?? 0) + 1;
  const key = sharedIndicatorKey(input.exercise, input.indicator.type, input.indicator.value);
  const indicators: AlertIndicator[] = [{ type: input.indicator.type, value: input.indicator.value }];
  const addedIn = new Map(input.previous?.contributions.map((c) => [c.reportId, c.addedInVersion]));
  const contributions: AlertContribution[] = sightings.map((sighting) => ({
    ...sighting,
    indicators,
    addedInVersion: addedIn.get(sighting.reportId) ?? version,
  }));
  const sectors = [...new Set(contributions.map((c) => c.sector))].sort();
  const described = `${input.indicator.type} ${input.indicator.value}`;
  const spread = `${organisations.size} organisations in ${sectors.length} ${sectors.length === 1 ? 'sector' : 'sectors'}`;
  return {
    id: nameBasedId(key),
    version,
    kind: SHARED_INDICATOR.kind,
    severity: highestSeverity(contributions.map((c) => c.severity)),
    tlp: mostRestrictiveTlp(contributions.map((c) => c.tlp)),
    title: `${input.exercise ? '[EXERCISE] ' : ''}${described} reported by ${spread}`,
    reasons: [`${spread} reported ${described}`],
    indicators,
    sectors,
    organisationCount: organisations.size,
    contributions,
    relatedAlertIds: [],
    tooCommon: false,
    watchlistEntryId: null,
    history: [...(input.previous?.history ?? []), { version, at: input.now, change: 'contribution' }],
    createdAt: input.previous?.createdAt ?? input.now,
    updatedAt: input.now,
    exercise: input.exercise,
  };
}

function uniqueByReport(sightings: readonly Sighting[]): Sighting[] {
  const byId = new Map<string, Sighting>();
  for (const sighting of sightings) if (!byId.has(sighting.reportId)) byId.set(sighting.reportId, sighting);
  return [...byId.values()];
}

/** By instant (offsets and precision vary between producers), then id, so the order is total. */
function byReceivedThenId(a: Sighting, b: Sighting): number {
  const byTime = Date.parse(a.receivedAt) - Date.parse(b.receivedAt);
  if (byTime !== 0) return byTime;
  return a.reportId < b.reportId ? -1 : a.reportId > b.reportId ? 1 : 0;
}

function sameReports(previous: readonly AlertContribution[], next: readonly Sighting[]): boolean {
  if (previous.length !== next.length) return false;
  const ids = new Set(previous.map((c) => c.reportId));
  return next.every((c) => ids.has(c.reportId));
}
