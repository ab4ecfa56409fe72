import type { TopicKey } from '@renkei/bus';
import { DAY_MS, type RetentionClass, type RetentionSettings } from './settings.js';

/**
 * What expires, as pure functions of the settings, the time and facts about
 * a row. The purge's SQL (queries.ts) states the same conditions for whole
 * batches; the integration test seeds rows, asks these functions which of
 * them are expired, and checks that exactly those are gone after a pass.
 */

export const CLOSED_TRIAGE_STATUSES = ['resolved', 'false-positive'] as const;
export const ENDED_RUN_STATES = ['completed', 'aborted'] as const;

export interface Horizon {
  now: number;
  /**
   * When the oldest exercise run still kept was created (a run not ended, or
   * ended within the exercise retention); null when none is kept.
   */
  oldestKeptRunCreatedAt: number | null;
}

export interface Cutoffs {
  /** Rows of a class whose time is before its cutoff are expired (subject to each row's own conditions). */
  reports: number;
  alerts: number;
  /** Runs: their end before this. */
  exercises: number;
  /**
   * An exercise's reports, alerts and warnings: before this. Items carry no
   * run id, so they are kept while any kept run could have made them: the
   * cutoff never passes the creation of the oldest run still kept.
   */
  exerciseItems: number;
  'feed-events': number;
  audit: number;
}

export function cutoffsAt(settings: RetentionSettings, horizon: Horizon): Cutoffs {
  const before = (cls: RetentionClass) => horizon.now - settings.keepMs[cls];
  const exercises = before('exercises');
  return {
    reports: before('reports'),
    alerts: before('alerts'),
    exercises,
    exerciseItems: Math.min(exercises, horizon.oldestKeptRunCreatedAt ?? Number.POSITIVE_INFINITY),
    'feed-events': before('feed-events'),
    audit: before('audit'),
  };
}

export type TriageStatus = 'new' | 'acknowledged' | 'investigating' | 'resolved' | 'false-positive';
export type RunState = 'scheduled' | 'running' | 'paused' | 'completed' | 'aborted';

/** Facts about one row, as the purge reads them. Times are epoch milliseconds. */
export type RowFacts =
  | {
      kind: 'report';
      exercise: boolean;
      receivedAt: number;
      /** An alert's record lists it, or an alert version was caused by it. */
      heldByAlert: boolean;
    }
  | {
      kind: 'alert';
      exercise: boolean;
      /** The latest of the alert's `updated_at` and its newest version's writing. */
      lastChangeAt: number;
      /** Null: never triaged, so `new` (open). */
      triage: { status: TriageStatus; changedAt: number } | null;
      /** A feed event or outbox row still names it (the feed reads its record from alert_versions). */
      namedByFeed: boolean;
    }
  | { kind: 'exercise-run'; state: RunState; endedAt: number | null; createdAt: number }
  | { kind: 'warning'; exercise: boolean; publishedAt: number }
  | { kind: 'audit-entry'; at: number };

/** The class whose setting governs a row. */
export function classOf(row: RowFacts): RetentionClass {
  switch (row.kind) {
    case 'report':
    case 'alert':
      return row.exercise ? 'exercises' : row.kind === 'report' ? 'reports' : 'alerts';
    case 'exercise-run':
    case 'warning':
      return 'exercises';
    case 'audit-entry':
      return 'audit';
  }
}

export function isOpen(triage: { status: TriageStatus } | null): boolean {
  return !triage || !(CLOSED_TRIAGE_STATUSES as readonly string[]).includes(triage.status);
}

/** The time a run's retention counts from: its end, or its creation for an ended run without one. */
export function runEnd(run: { endedAt: number | null; createdAt: number }): number {
  return run.endedAt ?? run.createdAt;
}

/**
 * Whether the purge removes this row now.
 *
 * - A report goes only once no alert holds it: an alert is kept whole, so
 *   its reports stay while it does, whatever their age.
 * - A real alert goes once it is closed (resolved or false positive) and
 *   both its close and its last change are older than the alert retention.
 *   An open alert is never removed, nor are its reports.
 * - An exercise alert goes with its exercise, whatever its triage: the run's
 *   end closed it. It goes whole, with its reports, in the same pass.
 * - Nothing the feed still names is removed (its events read the alert's record).
 * - Real warnings are not a class of their own and are kept; an exercise's go with it.
 */
export function isExpired(settings: RetentionSettings, horizon: Horizon, row: RowFacts): boolean {
  const cut = cutoffsAt(settings, horizon);
  switch (row.kind) {
    case 'report':
      return !row.heldByAlert && row.receivedAt < (row.exercise ? cut.exerciseItems : cut.reports);
    case 'alert': {
      if (row.namedByFeed) return false;
      if (row.exercise) return row.lastChangeAt < cut.exerciseItems;
      if (isOpen(row.triage)) return false;
      return row.lastChangeAt < cut.alerts && row.triage!.changedAt < cut.alerts;
    }
    case 'exercise-run':
      return (ENDED_RUN_STATES as readonly string[]).includes(row.state) && runEnd(row) < cut.exercises;
    case 'warning':
      return row.exercise && row.publishedAt < cut.exerciseItems;
    case 'audit-entry':
      return row.at < cut.audit;
  }
}

/** When the oldest kept run was created: the input of {@link cutoffsAt} for exercise items. */
export function oldestKeptRunCreatedAt(
  settings: RetentionSettings,
  now: number,
  runs: readonly { state: RunState; endedAt: number | null; createdAt: number }[],
): number | null {
  const cut = now - settings.keepMs.exercises;
  const kept = runs.filter(
    (run) => !(ENDED_RUN_STATES as readonly string[]).includes(run.state) || runEnd(run) >= cut,
  );
  return kept.length === 0 ? null : Math.min(...kept.map((run) => run.createdAt));
}

export interface FeedEventFacts {
  position: number;
  sequencedAt: number;
  published: boolean;
}

/**
 * The last position the purge may remove: the feed loses a prefix, never a
 * hole, so a client resuming by cursor meets one `gap` at its start or none.
 * The bound is the newest event older than the cutoff that comes before
 * every unpublished one (the relay has not sent those yet). Sequencing
 * stamps `now()` at the start of its transaction, so times are not strictly
 * in position order; an event slightly younger than the cutoff may go with
 * an older one after it. Null: nothing to remove.
 */
export function feedPurgeBound(cutoff: number, events: readonly FeedEventFacts[]): number | null {
  const firstUnpublished = Math.min(
    ...events.filter((event) => !event.published).map((event) => event.position),
    Number.POSITIVE_INFINITY,
  );
  const candidates = events
    .filter((event) => event.sequencedAt < cutoff && event.position < firstUnpublished)
    .map((event) => event.position);
  return candidates.length === 0 ? null : Math.max(...candidates);
}

/** How long Kafka would keep the hub's reports if nothing shortened it: enough to rebuild PostgreSQL after an outage. */
export const REPORTS_TOPIC_REBUILD_MS = 30 * DAY_MS;

/**
 * Each topic's `retention.ms`, from the same settings. The feed and alerts
 * topics carry what the feed carries, for as long as the feed keeps it. The
 * reports topic (and its dead letters) is the log the correlator and the
 * ingest ledger can be rebuilt from: it keeps a month for that, but never
 * longer than the store keeps reports, real or exercise, or a replay would
 * bring back a report the purge removed.
 */
export function topicRetentionMs(settings: RetentionSettings): Record<TopicKey, number> {
  const feed = settings.keepMs['feed-events'];
  const reports = Math.min(REPORTS_TOPIC_REBUILD_MS, settings.keepMs.reports, settings.keepMs.exercises);
  return { reports, reportsDeadLetter: reports, alerts: feed, feed };
}
