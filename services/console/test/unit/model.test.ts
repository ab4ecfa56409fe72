import { describe, expect, it } from 'vitest';
import type { AlertView } from '@renkei/schema';
import {
  applyTriageStatus,
  connectionState,
  heatLevel,
  isEscalation,
  matchesFilter,
  middleTruncate,
  clearFeed,
  compareNewestFirst,
  createFeedIndex,
  removeAlert,
  showsExercise,
  sortFeed,
  summaryWait,
  SUMMARY_BURST_EVENTS,
  SUMMARY_BURST_MS,
  SUMMARY_EVERY_MS,
  upsertFeed,
  visibleRange,
  type FeedAlert,
  type FeedIndex,
} from '../../src/model.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');

function alert(id: string, overrides: Partial<AlertView> = {}): AlertView {
  return {
    id,
    version: 1,
    kind: 'shared-indicator',
    severity: 'high',
    tlp: 'GREEN',
    title: `alert ${id}`,
    reasons: ['why'],
    indicators: [],
    sectors: ['finance'],
    organisationCount: 2,
    reportIds: [],
    relatedAlertIds: [],
    tooCommon: false,
    createdAt: '2026-11-30T11:00:00Z',
    updatedAt: '2026-11-30T11:00:00Z',
    exercise: false,
    ...overrides,
  };
}
const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('the live feed list', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 30, 11, minute)).toISOString();
  const ids = (feed: FeedIndex) => feed.list.map((item) => item.alert.id);

  it('keeps newest first by when the view last changed and replaces an alert by its newer version', () => {
    const feed = createFeedIndex();
    upsertFeed(feed, { alert: alert(ID(1), { updatedAt: at(10) }), cursor: 'c1' });
    upsertFeed(feed, { alert: alert(ID(2), { updatedAt: at(12) }), cursor: 'c2' });
    expect(ids(feed)).toEqual([ID(2), ID(1)]);
    const change = upsertFeed(feed, { alert: alert(ID(1), { version: 2, updatedAt: at(15) }), cursor: 'c3' });
    expect(change?.previous?.cursor).toBe('c1');
    expect(change?.held).toBe(true);
    expect(feed.list.map((item) => [item.alert.id, item.alert.version])).toEqual([
      [ID(1), 2],
      [ID(2), 1],
    ]);
    expect(feed.byId.get(ID(1))).toBe(feed.list[0]);
  });

  it('never lets a late older version replace a newer one, and keeps the triage status known', () => {
    const feed = createFeedIndex();
    upsertFeed(feed, { alert: alert(ID(1), { version: 3 }), cursor: 'c30', triageStatus: 'acknowledged' });
    expect(
      upsertFeed(feed, { alert: alert(ID(1), { version: 2 }), cursor: 'c20', triageStatus: 'new' }),
    ).toBeUndefined();
    expect(feed.list[0]).toMatchObject({ cursor: 'c30', triageStatus: 'acknowledged' });
    upsertFeed(feed, { alert: alert(ID(1), { version: 4 }), cursor: 'c40' });
    expect(feed.list[0]).toMatchObject({ cursor: 'c40', triageStatus: 'acknowledged' });
    expect(feed.list).toHaveLength(1);
  });

  it('orders by time, never by cursor, and breaks ties by id', () => {
    const feed = createFeedIndex();
    upsertFeed(feed, { alert: alert(ID(2), { updatedAt: at(5) }), cursor: 'zzz' });
    upsertFeed(feed, { alert: alert(ID(1), { updatedAt: at(5) }), cursor: 'aaa' });
    upsertFeed(feed, { alert: alert(ID(3), { updatedAt: at(4) }), cursor: '~~~' });
    expect(ids(feed)).toEqual([ID(1), ID(2), ID(3)]);
  });

  it('holds at most the limit, dropping the oldest from the list and the index', () => {
    const feed = createFeedIndex();
    for (let n = 1; n <= 5; n += 1)
      upsertFeed(feed, { alert: alert(ID(n), { updatedAt: at(n) }), cursor: `c${n}` }, 3);
    expect(feed.list.map((item) => item.cursor)).toEqual(['c5', 'c4', 'c3']);
    expect([...feed.byId.keys()].sort()).toEqual([ID(3), ID(4), ID(5)]);
    // Older than all it holds: dropped at once, and said so.
    expect(upsertFeed(feed, { alert: alert(ID(9), { updatedAt: at(0) }), cursor: 'c9' }, 3)?.held).toBe(
      false,
    );
    expect(feed.byId.has(ID(9))).toBe(false);
  });

  it('moves an alert on with alert-update frames', () => {
    const feed = createFeedIndex();
    upsertFeed(feed, { alert: alert(ID(1)), cursor: 'c1' });
    expect(applyTriageStatus(feed, ID(2), 'resolved')).toBeUndefined();
    expect(feed.list[0]!.triageStatus).toBe('new');
    expect(applyTriageStatus(feed, ID(1), 'resolved')?.triageStatus).toBe('resolved');
    expect(feed.list[0]!.triageStatus).toBe('resolved');
    expect(feed.byId.get(ID(1))).toBe(feed.list[0]);
  });

  it('removes an alert, and empties', () => {
    const feed = createFeedIndex();
    upsertFeed(feed, { alert: alert(ID(1), { updatedAt: at(1), exercise: true }), cursor: 'c1' });
    upsertFeed(feed, { alert: alert(ID(2), { updatedAt: at(2) }), cursor: 'c2' });
    expect(feed.exercises).toBe(1);
    expect(removeAlert(feed, ID(1))?.cursor).toBe('c1');
    expect(removeAlert(feed, ID(1))).toBeUndefined();
    expect(ids(feed)).toEqual([ID(2)]);
    expect(feed.exercises).toBe(0);
    clearFeed(feed);
    expect(feed.list).toHaveLength(0);
    expect(feed.byId.size).toBe(0);
  });

  it('keeps the list, the index and the exercise count in step with a plain reference over random events', () => {
    // A small seeded generator: the same sequences every run, and a failure names its seed.
    const random = (seed: number) => () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    // What an item is, in a line: deep comparisons of whole lists at every step would take minutes.
    const line = (item: FeedAlert | undefined) =>
      item && `${item.alert.id}/${item.alert.version}/${item.cursor}/${item.triageStatus}`;
    const STATUSES = ['new', 'acknowledged', 'investigating', 'resolved', 'false-positive'] as const;
    let checks = 0;
    for (let seed = 1; seed <= 20; seed += 1) {
      const next = random(seed);
      const pick = (n: number) => Math.floor(next() * n);
      const limit = 5 + pick(30);
      const feed = createFeedIndex();
      // The reference: every alert held, by id, and the rules written the slow and obvious way.
      let reference = new Map<string, FeedAlert>();
      const versions = new Map<string, number>();
      for (let step = 0; step < 250; step += 1) {
        const id = ID(pick(50));
        const roll = next();
        if (roll < 0.6) {
          // A new version, or (one time in five) a late older one; times few enough that ties happen.
          const known = versions.get(id) ?? 0;
          const version = next() < 0.2 && known > 1 ? known - 1 : known + 1;
          versions.set(id, Math.max(known, version));
          const incoming = {
            alert: alert(id, { version, updatedAt: at(pick(20)), exercise: next() < 0.3 }),
            cursor: `s${seed}-${step}`,
            ...(next() < 0.3 ? { triageStatus: STATUSES[pick(STATUSES.length)]! } : {}),
          };
          const held = reference.get(id);
          const change = upsertFeed(feed, incoming, limit);
          if (held && held.alert.version >= version) expect(change, `seed ${seed}`).toBeUndefined();
          else {
            expect(line(change?.previous), `seed ${seed}`).toBe(line(held));
            reference.set(id, {
              ...incoming,
              triageStatus: incoming.triageStatus ?? held?.triageStatus ?? 'new',
            });
            const kept = [...reference.values()].sort(compareNewestFirst).slice(0, limit);
            reference = new Map(kept.map((item) => [item.alert.id, item]));
            expect(change?.held, `seed ${seed}`).toBe(reference.has(id));
          }
        } else if (roll < 0.85) {
          const status = STATUSES[pick(STATUSES.length)]!;
          const held = reference.get(id);
          const item = applyTriageStatus(feed, id, status);
          if (held) reference.set(id, { ...held, triageStatus: status });
          expect(item?.triageStatus, `seed ${seed}`).toBe(held ? status : undefined);
        } else {
          expect(line(removeAlert(feed, id)), `seed ${seed}`).toBe(line(reference.get(id)));
          reference.delete(id);
        }
        const expected = [...reference.values()].sort(compareNewestFirst);
        // Checked by hand and handed to expect only when they differ: expect at every step is most of the time.
        const same = (actual: unknown, wanted: unknown) => {
          if (actual !== wanted) expect(actual, `seed ${seed} step ${step}`).toBe(wanted);
        };
        same(feed.list.map(line).join(' '), expected.map(line).join(' '));
        same(feed.byId.size, feed.list.length);
        same(
          feed.list.every((item) => feed.byId.get(item.alert.id) === item),
          true,
        );
        same(feed.exercises, expected.filter((item) => item.alert.exercise).length);
        checks += 1;
      }
    }
    expect(checks).toBe(20 * 250);
    // Well under a second on a quiet machine; the shared one can be many times slower.
  }, 30_000);
});

describe('asking for the counters', () => {
  it('waits 1.5 s after the last ask, and 5 s once events come in a burst', () => {
    expect(summaryWait(NOW, NOW - 10_000, 1)).toBe(0);
    expect(summaryWait(NOW, NOW - 500, 1)).toBe(SUMMARY_EVERY_MS - 500);
    expect(summaryWait(NOW, NOW - 500, SUMMARY_BURST_EVENTS)).toBe(SUMMARY_EVERY_MS - 500);
    expect(summaryWait(NOW, NOW - 500, SUMMARY_BURST_EVENTS + 1)).toBe(SUMMARY_BURST_MS - 500);
    expect(summaryWait(NOW, NOW - 6_000, 500)).toBe(0);
  });
});

describe('filters as the stream applies them', () => {
  it('narrows by each field', () => {
    const a = alert(ID(1), {
      severity: 'medium',
      kind: 'campaign',
      sectors: ['water', 'gas'],
      exercise: true,
    });
    expect(matchesFilter(a, {})).toBe(true);
    expect(matchesFilter(a, { minSeverity: 'medium' })).toBe(true);
    expect(matchesFilter(a, { minSeverity: 'high' })).toBe(false);
    expect(matchesFilter(a, { kinds: ['campaign'] })).toBe(true);
    expect(matchesFilter(a, { kinds: ['sector-surge'] })).toBe(false);
    expect(matchesFilter(a, { sectors: ['gas'] })).toBe(true);
    expect(matchesFilter(a, { sectors: ['finance'] })).toBe(false);
    expect(matchesFilter(a, { exercise: true })).toBe(true);
    expect(matchesFilter(a, { exercise: false })).toBe(false);
  });
});

describe('counters, heat map and banner', () => {
  const contribution = (
    reportId: string,
    sector: 'finance' | 'water',
    category: 'phishing' | 'malware',
    receivedAt: string,
  ) => ({
    reportId,
    organisationId: 'org',
    sector,
    tlp: 'GREEN' as const,
    severity: 'high' as const,
    category,
    detectedAt: receivedAt,
    receivedAt,
    indicators: [],
  });
  const list: FeedAlert[] = [
    {
      alert: alert(ID(1), {
        severity: 'critical',
        contributions: [
          contribution(ID(11), 'finance', 'phishing', '2026-11-30T11:30:00Z'),
          contribution(ID(12), 'water', 'malware', '2026-11-30T02:00:00Z'),
        ],
      }),
      cursor: '2',
      triageStatus: 'new',
    },
    {
      alert: alert(ID(2), {
        severity: 'low',
        exercise: true,
        contributions: [
          contribution(ID(11), 'finance', 'phishing', '2026-11-30T11:30:00Z'),
          contribution(ID(13), 'finance', 'phishing', '2026-11-28T11:30:00Z'),
        ],
      }),
      cursor: '1',
      triageStatus: 'resolved',
    },
  ];

  it('shades heat-map cells from 0 (none) to 4 (the busiest)', () => {
    expect(heatLevel(0, 4)).toBe(0);
    expect(heatLevel(1, 4)).toBe(1);
    expect(heatLevel(4, 4)).toBe(4);
    expect(heatLevel(1, 100)).toBe(1);
  });

  it('shows the exercise banner only when exercise traffic is listed', () => {
    expect(showsExercise(list)).toBe(true);
    expect(showsExercise(list.slice(0, 1))).toBe(false);
  });
});

describe('connection truth', () => {
  const facts = { socket: 'open' as const, lastFrameAt: NOW, heartbeatMs: 1_000 };
  it('is live only while a frame or heartbeat came within two heartbeat intervals', () => {
    expect(connectionState({ ...facts, lastFrameAt: undefined }, NOW)).toEqual({ state: 'connecting' });
    expect(connectionState(facts, NOW + 2_000)).toEqual({ state: 'live' });
    expect(connectionState(facts, NOW + 2_001)).toEqual({ state: 'reconnecting', silentForSeconds: 2 });
    expect(connectionState({ ...facts, socket: 'closed' }, NOW + 500)).toEqual({
      state: 'reconnecting',
      silentForSeconds: 0,
    });
  });

  it('says a gap for a while after the stream reported one, and a failure until signed in again', () => {
    expect(connectionState({ ...facts, gapAt: NOW }, NOW + 1_000)).toEqual({ state: 'gap' });
    expect(connectionState({ ...facts, gapAt: NOW - 20_000 }, NOW + 1_000)).toEqual({ state: 'live' });
    expect(connectionState({ ...facts, failed: 'x' }, NOW)).toEqual({ state: 'failed', reason: 'x' });
  });
});

describe('a list for a shift', () => {
  const item = (n: number, overrides: Partial<AlertView>): FeedAlert => ({
    alert: alert(ID(n), overrides),
    cursor: `c${n}`,
    triageStatus: 'new',
  });
  const list = [
    item(1, { severity: 'low', organisationCount: 9, updatedAt: '2026-11-30T11:03:00Z' }),
    item(2, { severity: 'critical', organisationCount: 2, updatedAt: '2026-11-30T11:02:00Z' }),
    item(3, { severity: 'critical', organisationCount: 5, updatedAt: '2026-11-30T11:01:00Z' }),
  ];

  it('sorts by severity, age or organisations, newest first among equals', () => {
    const ids = (sorted: readonly FeedAlert[]) => sorted.map((entry) => entry.cursor);
    expect(ids(sortFeed(list, { by: 'severity', descending: true }))).toEqual(['c2', 'c3', 'c1']);
    expect(ids(sortFeed(list, { by: 'organisations', descending: true }))).toEqual(['c1', 'c3', 'c2']);
    expect(ids(sortFeed(list, { by: 'time', descending: false }))).toEqual(['c3', 'c2', 'c1']);
    expect(sortFeed(list, { by: 'time', descending: true })).toBe(list);
  });

  it('draws only the rows in view and a few either side', () => {
    expect(visibleRange(0, 400, 40, 10_000, 5)).toEqual({ start: 0, end: 15 });
    expect(visibleRange(40_000, 400, 40, 10_000, 5)).toEqual({ start: 995, end: 1_015 });
    expect(visibleRange(399_990, 400, 40, 10_000, 5)).toEqual({ start: 9_994, end: 10_000 });
    expect(visibleRange(0, 400, 40, 0, 5)).toEqual({ start: 0, end: 0 });
  });

  it('cuts a long value in the middle, keeping both ends', () => {
    const hash = 'a'.repeat(30) + 'b'.repeat(34);
    expect(middleTruncate(hash, 21)).toBe(`${'a'.repeat(10)}…${'b'.repeat(10)}`);
    expect(middleTruncate('short', 21)).toBe('short');
    expect([...middleTruncate('連携'.repeat(20), 9)]).toHaveLength(9);
  });

  it('calls a new version at a higher severity an escalation', () => {
    expect(isEscalation(alert(ID(1), { severity: 'high' }), alert(ID(1), { severity: 'critical' }))).toBe(
      true,
    );
    expect(isEscalation(alert(ID(1), { severity: 'high' }), alert(ID(1), { severity: 'high' }))).toBe(false);
    expect(isEscalation(undefined, alert(ID(1), { severity: 'critical' }))).toBe(false);
  });

  it('keeps 10,000 alerts in order with each insertion', () => {
    const feed = createFeedIndex();
    for (let n = 0; n < 10_000; n += 1)
      upsertFeed(feed, {
        alert: alert(ID(n), { updatedAt: new Date(NOW - ((n * 7919) % 10_000) * 1000).toISOString() }),
        cursor: `c${n}`,
      });
    const times = feed.list.map((entry) => Date.parse(entry.alert.updatedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(feed.byId.size).toBe(10_000);
  });
});
