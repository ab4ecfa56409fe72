import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  checkRetentionEnv,
  classOf,
  cutoffsAt,
  DAY_MS,
  feedPurgeBound,
  HOUR_MS,
  isExpired,
  oldestKeptRunCreatedAt,
  REPORTS_TOPIC_REBUILD_MS,
  retentionEnv,
  retentionSettings,
  topicRetentionMs,
  type Horizon,
  type RetentionSettings,
  type RowFacts,
  type RunState,
  type TriageStatus,
} from '../src/index.js';

const NOW = Date.parse('2030-06-01T00:00:00Z');
const days = (n: number) => n * DAY_MS;
const ago = (n: number) => NOW - days(n);

const SETTINGS: RetentionSettings = {
  keepMs: {
    reports: days(100),
    alerts: days(200),
    exercises: days(50),
    'feed-events': days(7),
    audit: days(1000),
  },
  purgeIntervalMs: 60_000,
  batchSize: 10,
};
const NO_RUNS: Horizon = { now: NOW, oldestKeptRunCreatedAt: null };

const expired = (row: RowFacts, horizon: Horizon = NO_RUNS) => isExpired(SETTINGS, horizon, row);

const schema = retentionEnv
  .extend({ FEED_RETENTION_HOURS: z.coerce.number().default(168) })
  .superRefine(checkRetentionEnv);

describe('retention settings', () => {
  it('defaults to five years for reports and alerts, three for exercises, ten for the audit log', () => {
    const settings = retentionSettings(schema.parse({}));
    expect(settings.keepMs).toEqual({
      reports: days(1827),
      alerts: days(1827),
      exercises: days(1096),
      'feed-events': 168 * HOUR_MS,
      audit: days(3653),
    });
    expect(settings.purgeIntervalMs).toBe(HOUR_MS);
    expect(settings.batchSize).toBe(200);
  });

  it('refuses an audit retention shorter than any other class, naming the field', () => {
    for (const env of [
      { RETENTION_AUDIT_DAYS: '100', RETENTION_REPORTS_DAYS: '101' },
      { RETENTION_AUDIT_DAYS: '100', RETENTION_ALERTS_DAYS: '101', RETENTION_REPORTS_DAYS: '10' },
      { RETENTION_AUDIT_DAYS: '100', RETENTION_EXERCISES_DAYS: '101', RETENTION_REPORTS_DAYS: '10' },
      { RETENTION_AUDIT_DAYS: '1', FEED_RETENTION_HOURS: '25', RETENTION_REPORTS_DAYS: '1' },
    ]) {
      const result = schema.safeParse({ RETENTION_ALERTS_DAYS: '1', RETENTION_EXERCISES_DAYS: '1', ...env });
      expect(result.success).toBe(false);
      expect(result.error!.issues.map((issue) => issue.path.join('.'))).toContain('RETENTION_AUDIT_DAYS');
    }
    expect(schema.safeParse({ RETENTION_AUDIT_DAYS: '1827' }).success).toBe(true);
  });

  it('refuses a batch of no rows, a zero day retention and a purge more often than each second', () => {
    expect(schema.safeParse({ RETENTION_BATCH_SIZE: '0' }).success).toBe(false);
    expect(schema.safeParse({ RETENTION_REPORTS_DAYS: '0' }).success).toBe(false);
    expect(schema.safeParse({ RETENTION_PURGE_INTERVAL_MS: '999' }).success).toBe(false);
  });
});

describe('reports', () => {
  const report = (over: Partial<Extract<RowFacts, { kind: 'report' }>> = {}): RowFacts => ({
    kind: 'report',
    exercise: false,
    receivedAt: ago(101),
    heldByAlert: false,
    ...over,
  });

  it('expire once received longer ago than the reports retention', () => {
    expect(expired(report())).toBe(true);
    expect(expired(report({ receivedAt: ago(100) + 1 }))).toBe(false);
    expect(expired(report({ receivedAt: ago(100) }))).toBe(false);
    expect(expired(report({ receivedAt: ago(100) - 1 }))).toBe(true);
  });

  it('stay while an alert holds them, whatever their age', () => {
    expect(expired(report({ receivedAt: ago(10_000), heldByAlert: true }))).toBe(false);
  });

  it('of an exercise follow the exercise retention', () => {
    expect(classOf(report({ exercise: true }))).toBe('exercises');
    expect(expired(report({ exercise: true, receivedAt: ago(51) }))).toBe(true);
    expect(expired(report({ exercise: true, receivedAt: ago(49) }))).toBe(false);
  });

  it('of an exercise stay while a run that could have made them is kept', () => {
    const horizon = { now: NOW, oldestKeptRunCreatedAt: ago(60) };
    expect(expired(report({ exercise: true, receivedAt: ago(59) }), horizon)).toBe(false);
    expect(expired(report({ exercise: true, receivedAt: ago(61) }), horizon)).toBe(true);
    // A kept run younger than the retention changes nothing for older items.
    expect(
      expired(report({ exercise: true, receivedAt: ago(51) }), { now: NOW, oldestKeptRunCreatedAt: ago(5) }),
    ).toBe(true);
  });
});

describe('alerts', () => {
  const alert = (over: Partial<Extract<RowFacts, { kind: 'alert' }>> = {}): RowFacts => ({
    kind: 'alert',
    exercise: false,
    lastChangeAt: ago(300),
    triage: { status: 'resolved', changedAt: ago(250) },
    namedByFeed: false,
    ...over,
  });

  it('expire once closed, and closed and changed longer ago than the alert retention', () => {
    expect(classOf(alert())).toBe('alerts');
    expect(expired(alert())).toBe(true);
    expect(expired(alert({ triage: { status: 'false-positive', changedAt: ago(201) } }))).toBe(true);
    expect(expired(alert({ triage: { status: 'resolved', changedAt: ago(199) } }))).toBe(false);
    expect(expired(alert({ lastChangeAt: ago(199) }))).toBe(false);
  });

  it.each<TriageStatus>(['new', 'acknowledged', 'investigating'])(
    'are never removed while %s (open)',
    (status) => {
      expect(expired(alert({ triage: { status, changedAt: ago(10_000) }, lastChangeAt: ago(10_000) }))).toBe(
        false,
      );
    },
  );

  it('are open when never triaged', () => {
    expect(expired(alert({ triage: null, lastChangeAt: ago(10_000) }))).toBe(false);
  });

  it('stay while the feed names them', () => {
    expect(expired(alert({ namedByFeed: true }))).toBe(false);
    expect(expired(alert({ exercise: true, namedByFeed: true }))).toBe(false);
  });

  it('of an exercise go with the exercise, open or not', () => {
    expect(classOf(alert({ exercise: true }))).toBe('exercises');
    expect(expired(alert({ exercise: true, triage: null, lastChangeAt: ago(51) }))).toBe(true);
    expect(expired(alert({ exercise: true, triage: null, lastChangeAt: ago(49) }))).toBe(false);
    expect(
      expired(alert({ exercise: true, triage: null, lastChangeAt: ago(51) }), {
        now: NOW,
        oldestKeptRunCreatedAt: ago(52),
      }),
    ).toBe(false);
  });
});

describe('exercise runs and warnings', () => {
  const run = (state: RunState, endedAt: number | null, createdAt = ago(400)): RowFacts => ({
    kind: 'exercise-run',
    state,
    endedAt,
    createdAt,
  });

  it('expire from the end of the run', () => {
    expect(expired(run('completed', ago(51)))).toBe(true);
    expect(expired(run('aborted', ago(51)))).toBe(true);
    expect(expired(run('completed', ago(49)))).toBe(false);
    // An ended run without an end time counts from its creation.
    expect(expired(run('aborted', null, ago(51)))).toBe(true);
    expect(expired(run('aborted', null, ago(49)))).toBe(false);
  });

  it.each<RunState>(['scheduled', 'running', 'paused'])('never while %s', (state) => {
    expect(expired(run(state, null, ago(10_000)))).toBe(false);
  });

  it('hold back exercise items from the creation of the oldest run kept', () => {
    const runs = [
      { state: 'completed' as const, endedAt: ago(60), createdAt: ago(70) },
      { state: 'completed' as const, endedAt: ago(40), createdAt: ago(45) },
      { state: 'paused' as const, endedAt: null, createdAt: ago(30) },
    ];
    expect(oldestKeptRunCreatedAt(SETTINGS, NOW, runs)).toBe(ago(45));
    expect(oldestKeptRunCreatedAt(SETTINGS, NOW, runs.slice(0, 1))).toBeNull();
    expect(cutoffsAt(SETTINGS, { now: NOW, oldestKeptRunCreatedAt: ago(45) }).exerciseItems).toBe(ago(50));
    expect(cutoffsAt(SETTINGS, { now: NOW, oldestKeptRunCreatedAt: ago(80) }).exerciseItems).toBe(ago(80));
  });

  it('warnings of an exercise go with it; real warnings are kept', () => {
    expect(expired({ kind: 'warning', exercise: true, publishedAt: ago(51) })).toBe(true);
    expect(expired({ kind: 'warning', exercise: true, publishedAt: ago(49) })).toBe(false);
    expect(expired({ kind: 'warning', exercise: false, publishedAt: ago(10_000) })).toBe(false);
  });
});

describe('audit entries', () => {
  it('expire after the audit retention', () => {
    expect(classOf({ kind: 'audit-entry', at: 0 })).toBe('audit');
    expect(expired({ kind: 'audit-entry', at: ago(1001) })).toBe(true);
    expect(expired({ kind: 'audit-entry', at: ago(999) })).toBe(false);
  });
});

describe('feed events', () => {
  const cutoff = ago(7);
  const event = (position: number, age: number, published = true) => ({
    position,
    sequencedAt: ago(age),
    published,
  });

  it('lose the prefix up to the newest expired event', () => {
    expect(feedPurgeBound(cutoff, [event(1, 9), event(2, 8), event(3, 6), event(4, 1)])).toBe(2);
  });

  it('lose a younger event before an older one rather than leave a hole', () => {
    // Sequencing stamps the start of its transaction: times are not strictly in order.
    expect(feedPurgeBound(cutoff, [event(1, 8), event(2, 6.9), event(3, 7.1), event(4, 1)])).toBe(3);
  });

  it('never lose an unpublished event, nor anything after it', () => {
    expect(feedPurgeBound(cutoff, [event(1, 9), event(2, 9, false), event(3, 8)])).toBe(1);
    expect(feedPurgeBound(cutoff, [event(1, 9, false), event(2, 8)])).toBeNull();
  });

  it('lose nothing when nothing is older than the resume window', () => {
    expect(feedPurgeBound(cutoff, [event(1, 6), event(2, 1)])).toBeNull();
    expect(feedPurgeBound(cutoff, [])).toBeNull();
  });
});

describe('topic retention', () => {
  it('keeps the feed and alerts topics as long as the feed, the reports topic a month at most', () => {
    expect(topicRetentionMs(SETTINGS)).toEqual({
      feed: days(7),
      alerts: days(7),
      reports: REPORTS_TOPIC_REBUILD_MS,
      reportsDeadLetter: REPORTS_TOPIC_REBUILD_MS,
    });
  });

  it('never keeps a report on Kafka longer than the store keeps it, real or exercise', () => {
    const short = { ...SETTINGS, keepMs: { ...SETTINGS.keepMs, exercises: days(3) } };
    expect(topicRetentionMs(short).reports).toBe(days(3));
    expect(topicRetentionMs(short).reportsDeadLetter).toBe(days(3));
    const shorter = { ...SETTINGS, keepMs: { ...SETTINGS.keepMs, reports: days(2) } };
    expect(topicRetentionMs(shorter).reports).toBe(days(2));
  });
});
