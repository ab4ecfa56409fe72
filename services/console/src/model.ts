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
 * Adds or replaces an alert, in place (a list of 10,000 copied twice per
 * event would keep the page collecting garbage through a burst), and returns
 * the list. An older version arriving late never replaces a newer one, and
 * the triage status already known is kept.
 */
/** Where an alert is in the list, or -1: a plain loop, run on every event over up to 20,000 alerts. */
export function indexOfAlert(list: readonly FeedAlert[], alertId: string): number {
  for (let index = 0; index < list.length; index += 1) if (list[index]!.alert.id === alertId) return index;
  return -1;
}

export function upsertAlert(
  list: FeedAlert[],
  incoming: Omit<FeedAlert, 'triageStatus'> & { triageStatus?: TriageStatus },
  limit = 20_000,
): FeedAlert[] {
  const index = indexOfAlert(list, incoming.alert.id);
  const existing = index >= 0 ? list[index] : undefined;
  // A viewer's versions of one alert count up, one per change it saw.
  if (existing && existing.alert.version >= incoming.alert.version) return list;
  const merged: FeedAlert = {
    ...incoming,
    triageStatus: incoming.triageStatus ?? existing?.triageStatus ?? 'new',
  };
  if (index >= 0) list.splice(index, 1);
  // The list is kept in order: one binary search, not a sort of 10,000 alerts per event.
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (compareNewestFirst(list[middle]!, merged) < 0) low = middle + 1;
    else high = middle;
  }
  list.splice(low, 0, merged);
  if (list.length > limit) list.length = limit;
  return list;
}

/** Moves an alert's triage status on, in place; returns the list. */
export function applyTriageStatus(list: FeedAlert[], alertId: string, status: TriageStatus): FeedAlert[] {
  const index = indexOfAlert(list, alertId);
  if (index >= 0) list[index] = { ...list[index]!, triageStatus: status };
  return list;
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
  | { state: 'reconnecting'; silentForSeconds: number | null }
  | { state: 'gap' }
  | { state: 'failed'; reason: string };

/** What the page knows of its stream connection. */
export interface LinkFacts {
  socket: 'connecting' | 'open' | 'closed';
  /** When the last frame (heartbeats included) arrived; undefined before any. */
  lastFrameAt: number | undefined;
  heartbeatMs: number;
  /** When the stream said events were missed (the list is reloaded). */
  gapAt?: number | undefined;
  failed?: string | undefined;
}

/** How long "Gap" stays shown after the stream reported one. */
export const GAP_SHOWN_MS = 10_000;

/**
 * What the connection badge says: "Live" only while frames or heartbeats
 * arrive, within two heartbeat intervals; otherwise "Reconnecting…" with how
 * long nothing has been heard. An open socket proves nothing: a network that
 * dropped it silently leaves it open.
 */
export function connectionState(facts: LinkFacts, now: number): ConnectionState {
  if (facts.failed !== undefined) return { state: 'failed', reason: facts.failed };
  if (facts.lastFrameAt === undefined) return { state: 'connecting' };
  const silentFor = now - facts.lastFrameAt;
  if (facts.socket === 'open' && silentFor <= 2 * facts.heartbeatMs) {
    if (facts.gapAt !== undefined && now - facts.gapAt < GAP_SHOWN_MS) return { state: 'gap' };
    return { state: 'live' };
  }
  return { state: 'reconnecting', silentForSeconds: Math.floor(Math.max(0, silentFor) / 1000) };
}

export type SortKey = 'time' | 'severity' | 'organisations';
export interface FeedSort {
  by: SortKey;
  descending: boolean;
}

/** The list in the order asked for; newest first breaks every tie, so the order never depends on arrival. */
export function sortFeed(list: readonly FeedAlert[], sort: FeedSort): readonly FeedAlert[] {
  if (sort.by === 'time' && sort.descending) return list;
  const sign = sort.descending ? -1 : 1;
  const key = (item: FeedAlert) =>
    sort.by === 'severity'
      ? rank(item.alert.severity)
      : sort.by === 'organisations'
        ? item.alert.organisationCount
        : Date.parse(item.alert.updatedAt);
  return [...list].sort((a, b) => sign * (key(a) - key(b)) || compareNewestFirst(a, b));
}

/** Rows to draw of a virtualised list: those in view and a few either side. */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = 8,
): { start: number; end: number } {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + Math.ceil(viewportHeight / rowHeight) + overscan);
  return { start, end: Math.max(start, end) };
}

/** A long value cut in the middle (hashes and URLs differ at both ends); the full value goes on hover and copy. */
export function middleTruncate(value: string, max: number): string {
  // UTF-16 units are never fewer than code points: a short value needs no splitting.
  if (value.length <= max) return value;
  const characters = [...value];
  if (characters.length <= max) return value;
  const keep = max - 1;
  const head = Math.ceil(keep / 2);
  return `${characters.slice(0, head).join('')}…${characters.slice(characters.length - (keep - head)).join('')}`;
}

const SEVERITY_RISE = (from: Severity, to: Severity) => rank(to) > rank(from);

/** Whether a new version is an escalation: a higher severity than the version the viewer had. */
export function isEscalation(previous: AlertView | undefined, next: AlertView): boolean {
  return previous !== undefined && SEVERITY_RISE(previous.severity, next.severity);
}
