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
 * The alerts a page holds: the list newest first (what the feed shows) and
 * the same items by alert id, kept in step. An event finds its alert in the
 * map and its place in the list by binary search: on a watch floor holding
 * 10,000 alerts, a scan per event was most of what a burst cost the page.
 * Changed in place (a list of 10,000 copied per event would keep the page
 * collecting garbage), through the functions below only.
 */
export interface FeedIndex {
  /** Newest first (compareNewestFirst): every item of `byId`, once. */
  readonly list: FeedAlert[];
  readonly byId: Map<string, FeedAlert>;
  /** How many items are exercise traffic: the banner shows without a scan. */
  exercises: number;
}

export function createFeedIndex(): FeedIndex {
  return { list: [], byId: new Map(), exercises: 0 };
}

/** The first place in the list at which `item` sorts (where it is, when it is there). */
function placeOf(list: readonly FeedAlert[], item: FeedAlert): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (compareNewestFirst(list[middle]!, item) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Where a held item is in the list. Its order key (updatedAt, id) never
 * changes while it is held and ids are unique, so the binary search lands on it.
 */
function positionOf(feed: FeedIndex, item: FeedAlert): number {
  const index = placeOf(feed.list, item);
  // Only a time that does not parse could break the order (the schema checks every one): then a scan.
  return feed.list[index] === item ? index : feed.list.indexOf(item);
}

export interface FeedChange {
  /** The version held before, if any. */
  previous: FeedAlert | undefined;
  /** The version that came. */
  item: FeedAlert;
  /** False when it was dropped at once, older than all the `limit` newest. */
  held: boolean;
}

/**
 * Adds or replaces an alert; returns what changed, or undefined when nothing
 * did. An older version arriving late never replaces a newer one, and the
 * triage status already known is kept. Past `limit`, the oldest are dropped.
 */
export function upsertFeed(
  feed: FeedIndex,
  incoming: Omit<FeedAlert, 'triageStatus'> & { triageStatus?: TriageStatus },
  limit = 20_000,
): FeedChange | undefined {
  const existing = feed.byId.get(incoming.alert.id);
  // A viewer's versions of one alert count up, one per change it saw.
  if (existing && existing.alert.version >= incoming.alert.version) return undefined;
  const item: FeedAlert = {
    ...incoming,
    triageStatus: incoming.triageStatus ?? existing?.triageStatus ?? 'new',
  };
  if (existing) removeAlert(feed, existing.alert.id);
  feed.list.splice(placeOf(feed.list, item), 0, item);
  feed.byId.set(item.alert.id, item);
  if (item.alert.exercise) feed.exercises += 1;
  while (feed.list.length > limit) removeAlert(feed, feed.list[feed.list.length - 1]!.alert.id);
  return { previous: existing, item, held: feed.byId.get(item.alert.id) === item };
}

/** Takes an alert out; returns what was held, if anything. */
export function removeAlert(feed: FeedIndex, alertId: string): FeedAlert | undefined {
  const existing = feed.byId.get(alertId);
  if (!existing) return undefined;
  const index = positionOf(feed, existing);
  // The oldest leave from the end: no elements move.
  if (index === feed.list.length - 1) feed.list.pop();
  else feed.list.splice(index, 1);
  feed.byId.delete(alertId);
  if (existing.alert.exercise) feed.exercises -= 1;
  return existing;
}

/** Moves an alert's triage status on, in place; returns the item now held, if the alert is held. */
export function applyTriageStatus(
  feed: FeedIndex,
  alertId: string,
  status: TriageStatus,
): FeedAlert | undefined {
  const existing = feed.byId.get(alertId);
  if (!existing) return undefined;
  if (existing.triageStatus === status) return existing;
  const item = { ...existing, triageStatus: status };
  feed.list[positionOf(feed, existing)] = item;
  feed.byId.set(alertId, item);
  return item;
}

/** Empties the index (a new person signed in, or signed out). */
export function clearFeed(feed: FeedIndex): void {
  feed.list.length = 0;
  feed.byId.clear();
  feed.exercises = 0;
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
  // Keys worked out once per alert, not twice per comparison (some 130,000 comparisons sort 10,000).
  const keyed = list.map((item) => {
    const time = Date.parse(item.alert.updatedAt);
    const key =
      sort.by === 'severity'
        ? rank(item.alert.severity)
        : sort.by === 'organisations'
          ? item.alert.organisationCount
          : time;
    return { item, key, time, id: item.alert.id };
  });
  keyed.sort(
    (a, b) =>
      sign * (a.key - b.key) ||
      (a.time !== b.time ? b.time - a.time : a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return keyed.map((entry) => entry.item);
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

/** The counters asked for at most this often after events… */
export const SUMMARY_EVERY_MS = 1_500;
/** …and at most this often while events come in a burst (the hub counts every alert for each answer). */
export const SUMMARY_BURST_MS = 5_000;
/** More events than this since the last ask is a burst. */
export const SUMMARY_BURST_EVENTS = 20;

/**
 * How long to wait still before asking the hub for the counters again
 * (0: now). At most one request is in flight (the caller asks again only
 * after an answer); during a burst the counters change with every event,
 * and asking every 1.5 s had the page spend a second of each burst's thirty
 * on them, so then it asks every 5 s.
 */
export function summaryWait(now: number, lastAskedAt: number, eventsSinceAsked: number): number {
  const every = eventsSinceAsked > SUMMARY_BURST_EVENTS ? SUMMARY_BURST_MS : SUMMARY_EVERY_MS;
  return Math.max(0, lastAskedAt + every - now);
}
