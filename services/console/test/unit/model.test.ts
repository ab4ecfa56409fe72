import { describe, expect, it } from 'vitest';
import type { AlertView } from '@renkei/schema';
import {
  applyTriageStatus,
  connectionState,
  heatLevel,
  isEscalation,
  matchesFilter,
  middleTruncate,
  showsExercise,
  sortFeed,
  upsertAlert,
  visibleRange,
  type FeedAlert,
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

  it('keeps newest first by when the view last changed and replaces an alert by its newer version', () => {
    let list: FeedAlert[] = [];
    list = upsertAlert(list, { alert: alert(ID(1), { updatedAt: at(10) }), cursor: 'c1' });
    list = upsertAlert(list, { alert: alert(ID(2), { updatedAt: at(12) }), cursor: 'c2' });
    expect(list.map((item) => item.alert.id)).toEqual([ID(2), ID(1)]);
    list = upsertAlert(list, { alert: alert(ID(1), { version: 2, updatedAt: at(15) }), cursor: 'c3' });
    expect(list.map((item) => [item.alert.id, item.alert.version])).toEqual([
      [ID(1), 2],
      [ID(2), 1],
    ]);
  });

  it('never lets a late older version replace a newer one, and keeps the triage status known', () => {
    let list = upsertAlert([], {
      alert: alert(ID(1), { version: 3 }),
      cursor: 'c30',
      triageStatus: 'acknowledged',
    });
    list = upsertAlert(list, { alert: alert(ID(1), { version: 2 }), cursor: 'c20', triageStatus: 'new' });
    expect(list[0]).toMatchObject({ cursor: 'c30', triageStatus: 'acknowledged' });
    list = upsertAlert(list, { alert: alert(ID(1), { version: 4 }), cursor: 'c40' });
    expect(list[0]).toMatchObject({ cursor: 'c40', triageStatus: 'acknowledged' });
  });

  it('orders by time, never by cursor, and breaks ties by id', () => {
    let list = upsertAlert([], { alert: alert(ID(2), { updatedAt: at(5) }), cursor: 'zzz' });
    list = upsertAlert(list, { alert: alert(ID(1), { updatedAt: at(5) }), cursor: 'aaa' });
    list = upsertAlert(list, { alert: alert(ID(3), { updatedAt: at(4) }), cursor: '~~~' });
    expect(list.map((item) => item.alert.id)).toEqual([ID(1), ID(2), ID(3)]);
  });

  it('holds at most the limit, dropping the oldest', () => {
    let list: FeedAlert[] = [];
    for (let n = 1; n <= 5; n += 1)
      list = upsertAlert(list, { alert: alert(ID(n), { updatedAt: at(n) }), cursor: `c${n}` }, 3);
    expect(list.map((item) => item.cursor)).toEqual(['c5', 'c4', 'c3']);
  });

  it('moves an alert on with alert-update frames', () => {
    const list = () => upsertAlert([], { alert: alert(ID(1)), cursor: 'c1' });
    expect(applyTriageStatus(list(), ID(1), 'resolved')[0]!.triageStatus).toBe('resolved');
    expect(applyTriageStatus(list(), ID(2), 'resolved')[0]!.triageStatus).toBe('new');
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
    let many: FeedAlert[] = [];
    for (let n = 0; n < 2_000; n += 1)
      many = upsertAlert(many, {
        alert: alert(ID(n), { updatedAt: new Date(NOW - ((n * 7919) % 2_000) * 1000).toISOString() }),
        cursor: `c${n}`,
      });
    const times = many.map((entry) => Date.parse(entry.alert.updatedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });
});
