import { describe, expect, it } from 'vitest';
import type { AlertView } from '@renkei/schema';
import {
  applyTriageStatus,
  heatLevel,
  heatMap,
  matchesFilter,
  nextConnectionState,
  openBySeverity,
  reportsInLastHour,
  showsExercise,
  upsertAlert,
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
    const list = upsertAlert([], { alert: alert(ID(1)), cursor: 'c1' });
    expect(applyTriageStatus(list, ID(1), 'resolved')[0]!.triageStatus).toBe('resolved');
    expect(applyTriageStatus(list, ID(2), 'resolved')[0]!.triageStatus).toBe('new');
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

  it('counts open alerts by severity, leaving closed ones out', () => {
    expect(openBySeverity(list)).toEqual({ low: 0, medium: 0, high: 0, critical: 1 });
  });

  it('counts each report once within the hour', () => {
    expect(reportsInLastHour(list, NOW)).toBe(1);
  });

  it('maps sector × category over 24 hours, each report once', () => {
    const map = heatMap(list, NOW);
    expect(map).toEqual({
      sectors: ['finance', 'water'],
      categories: ['malware', 'phishing'],
      counts: { finance: { phishing: 1 }, water: { malware: 1 } },
      max: 1,
    });
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

describe('connection state', () => {
  it('is live on the first opening, reconnecting after, resumed on the next, gap when told', () => {
    let state = nextConnectionState({ state: 'connecting' }, 'connecting', false);
    expect(state).toEqual({ state: 'connecting' });
    state = nextConnectionState(state, 'open', false);
    expect(state).toEqual({ state: 'live' });
    state = nextConnectionState(state, 'closed', true);
    expect(state).toEqual({ state: 'reconnecting' });
    state = nextConnectionState(state, 'connecting', true);
    expect(state).toEqual({ state: 'reconnecting' });
    state = nextConnectionState(state, 'open', true);
    expect(state).toEqual({ state: 'resumed' });
    expect(nextConnectionState(state, 'gap', true)).toEqual({ state: 'gap' });
  });
});
