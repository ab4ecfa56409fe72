// The console's state changes as pure functions: what the live feed, the
// counters and the heat map show, from the alerts and frames received.
import {
  SEVERITIES,
  type AlertView,
  type Severity,
  type StreamFilter,
  type TriageStatus,
} from '@renkei/schema';

export interface FeedAlert {
  alert: AlertView;
  /** The cursor of the event that brought this version: opaque, kept only to be handed back. */
  cursor: string;
  triageStatus: TriageStatus;
  /** When this console received it live (for the brief highlight); undefined when loaded from the list. */
  arrivedAt?: number;
}

/**
 * Newest first, by when the viewer's view last changed (`updatedAt` is the
 * time of that version), then by id so the order never depends on arrival.
 * Cursors are opaque: they cannot be ordered.
 */
export function compareNewestFirst(a: FeedAlert, b: FeedAlert): number {
  const left = Date.parse(a.alert.updatedAt);
  const right = Date.parse(b.alert.updatedAt);
  if (left !== right) return left > right ? -1 : 1;
  return a.alert.id < b.alert.id ? -1 : a.alert.id > b.alert.id ? 1 : 0;
}

/**
 * Adds or replaces an alert. An older version arriving late never replaces
 * a newer one, and the triage status already known is kept.
 */
export function upsertAlert(
  list: readonly FeedAlert[],
  incoming: Omit<FeedAlert, 'triageStatus'> & { triageStatus?: TriageStatus },
  limit = 1000,
): FeedAlert[] {
  const existing = list.find((item) => item.alert.id === incoming.alert.id);
  // A viewer's versions of one alert count up, one per change it saw.
  if (existing && existing.alert.version >= incoming.alert.version) return [...list];
  const merged: FeedAlert = {
    ...incoming,
    triageStatus: incoming.triageStatus ?? existing?.triageStatus ?? 'new',
  };
  const rest = list.filter((item) => item.alert.id !== incoming.alert.id);
  return [merged, ...rest].sort(compareNewestFirst).slice(0, limit);
}

export function applyTriageStatus(
  list: readonly FeedAlert[],
  alertId: string,
  status: TriageStatus,
): FeedAlert[] {
  return list.map((item) => (item.alert.id === alertId ? { ...item, triageStatus: status } : item));
}

const rank = (severity: Severity) => SEVERITIES.indexOf(severity);

/** Whether an alert passes the filter, as the gateway applies it to the stream. */
export function matchesFilter(alert: AlertView, filter: StreamFilter): boolean {
  if (filter.minSeverity && rank(alert.severity) < rank(filter.minSeverity)) return false;
  if (filter.kinds && !filter.kinds.includes(alert.kind)) return false;
  if (filter.sectors && !alert.sectors.some((sector) => filter.sectors!.includes(sector))) return false;
  if (filter.exercise !== undefined && alert.exercise !== filter.exercise) return false;
  return true;
}

const CLOSED: readonly TriageStatus[] = ['resolved', 'false-positive'];

/** Alerts not yet resolved or dismissed, per severity. */
export function openBySeverity(list: readonly FeedAlert[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  for (const item of list) if (!CLOSED.includes(item.triageStatus)) counts[item.alert.severity] += 1;
  return counts;
}

interface Contribution {
  reportId: string;
  sector: string;
  category: string;
  receivedAt: string;
}

/** Each report once, from the contributions analysts see (others' views carry none). */
function distinctContributions(list: readonly FeedAlert[]): Contribution[] {
  const seen = new Map<string, Contribution>();
  for (const item of list)
    for (const contribution of item.alert.contributions ?? []) seen.set(contribution.reportId, contribution);
  return [...seen.values()];
}

/** Reports in the alerts received within the last hour. */
export function reportsInLastHour(list: readonly FeedAlert[], now: number): number {
  return distinctContributions(list).filter((c) => now - Date.parse(c.receivedAt) <= 3_600_000).length;
}

export interface HeatMap {
  sectors: string[];
  categories: string[];
  /** `counts[sector][category]`. */
  counts: Record<string, Record<string, number>>;
  max: number;
}

/** Sector × category counts of the reports in alerts over the last 24 hours; only rows and columns with any. */
export function heatMap(list: readonly FeedAlert[], now: number): HeatMap {
  const counts: Record<string, Record<string, number>> = {};
  const categories = new Set<string>();
  let max = 0;
  for (const c of distinctContributions(list)) {
    if (now - Date.parse(c.receivedAt) > 86_400_000) continue;
    const row = (counts[c.sector] ??= {});
    row[c.category] = (row[c.category] ?? 0) + 1;
    categories.add(c.category);
    max = Math.max(max, row[c.category]!);
  }
  return { sectors: Object.keys(counts).sort(), categories: [...categories].sort(), counts, max };
}

/** The shade of a heat-map cell: 0 (none) to 4 (the busiest). */
export function heatLevel(count: number, max: number): number {
  if (count <= 0 || max <= 0) return 0;
  return Math.max(1, Math.ceil((count / max) * 4));
}

/** Whether any alert listed is exercise traffic: the page then shows the banner. */
export function showsExercise(list: readonly FeedAlert[]): boolean {
  return list.some((item) => item.alert.exercise);
}

export type ConnectionState =
  | { state: 'connecting' }
  | { state: 'live' }
  | { state: 'reconnecting' }
  | { state: 'resumed' }
  | { state: 'gap' }
  | { state: 'failed'; reason: string };

/**
 * What the connection badge says after a status change: the first opening is
 * `live`, any later one `resumed` (the client replayed what was missed),
 * and a gap stays shown until the next reconnection.
 */
export function nextConnectionState(
  current: ConnectionState,
  event: 'connecting' | 'open' | 'closed' | 'gap',
  everOpened: boolean,
): ConnectionState {
  switch (event) {
    case 'connecting':
      return everOpened ? { state: 'reconnecting' } : { state: 'connecting' };
    case 'open':
      return everOpened ? { state: 'resumed' } : { state: 'live' };
    case 'closed':
      return { state: 'reconnecting' };
    case 'gap':
      return { state: 'gap' };
  }
  return current;
}
