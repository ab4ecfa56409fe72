import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '@renkei/schema';
import type { IndicatorType } from '@renkei/indicators';
import { DAY, facts, hub, incoming, MINUTE, random } from './support.js';

const ORGANISATIONS = [
  ['a-csirt', 'central-government'],
  ['b-csirt', 'central-government'],
  ['c-ceptar', 'finance'],
  ['d-ceptar', 'finance'],
  ['e-ceptar', 'water'],
  ['f-op', 'telecom'],
] as const;
const CATEGORIES = ['malware', 'phishing', 'intrusion'] as const;

/** A mixed burst: shared and unique indicators, URLs and their hosts, campaigns, surges, drills, a watched domain. */
function burst(seed: number, count: number) {
  const next = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const shared: [IndicatorType, string][] = [
    ['domain', 'c2-a.example'],
    ['domain', 'c2-b.example'],
    ['ipv4', '45.33.32.156'],
    ['ipv4', '45.33.32.157'],
    ['url', 'https://c2-a.example/gate.php'],
    ['url', 'hxxps://c2-b[.]example/x'],
    ['md5', 'c4ca4238a0b923820dcc509a6f75849b'],
    ['domain', 'watched.example'],
  ];
  return Array.from({ length: count }, (_, i) => {
    const [org, sector] = pick(ORGANISATIONS);
    const report = facts(org, {
      id: 10_000 + i,
      sector,
      category: pick(CATEGORIES),
      severity: pick(['low', 'medium', 'high'] as const),
      tlp: pick(['CLEAR', 'GREEN', 'AMBER'] as const),
      // Spread over six weeks so windows open and close; bunched minutes make surges.
      at:
        next() < 0.3
          ? 10 * DAY + Math.floor(next() * 40) * MINUTE
          : Math.floor(next() * 42) * DAY + Math.floor(next() * 90) * MINUTE,
      exercise: next() < 0.1,
    });
    const indicators: [IndicatorType, string][] = [];
    const sharedCount = Math.floor(next() * 4);
    for (let k = 0; k < sharedCount; k += 1) indicators.push(pick(shared));
    indicators.push(['domain', `unique-${i}.example`]);
    return incoming(report, indicators);
  });
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const next = random(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/**
 * What must not depend on arrival order. Version numbers, `addedInVersion`,
 * `createdAt` and the history's times do; so do the reports of an alert that
 * a cap stopped, which keeps those that came before the cap.
 */
function settled(alert: AlertRecord) {
  if (alert.tooCommon) return { id: alert.id, kind: alert.kind, tooCommon: true };
  const { version: _v, history: _h, createdAt: _c, contributions, ...rest } = alert;
  return {
    ...rest,
    contributions: contributions.map(({ addedInVersion: _a, ...contribution }) => contribution),
  };
}

describe('the final alerts do not depend on the order reports arrive in', () => {
  it.each([1, 2, 3])('burst %i: five orders, the same alerts', (seed) => {
    const reports = burst(seed, 160);
    const entry = {
      id: '22222222-2222-4222-8222-222222222222',
      indicator: { type: 'domain' as const, value: 'watched.example' },
      createdAt: new Date(Date.parse(reports[0]!.report.detectedAt) + 20 * DAY).toISOString(),
      expiresAt: null,
      removedAt: null,
    };
    const outcomes = [0, 1, 2, 3, 4].map((order) => {
      // A small cap so some alerts pass it in every run.
      const state = hub({ tooCommonOrganisations: 4 });
      const sequence = order === 0 ? reports : shuffled(reports, seed * 100 + order);
      const entryAt = Math.floor(sequence.length / (order + 2));
      sequence.forEach((report, index) => {
        if (index === entryAt) state.addWatchlistEntry(entry);
        state.process(report);
      });
      return new Map([...state.alerts.values()].map((alert) => [alert.id, settled(alert)]));
    });
    const kinds = new Set([...outcomes[0]!.values()].map((alert) => alert.kind));
    expect([...kinds].sort()).toEqual(['campaign', 'sector-surge', 'shared-indicator', 'watchlist-match']);
    expect([...outcomes[0]!.values()].some((alert) => alert.tooCommon)).toBe(true);
    expect([...outcomes[0]!.values()].filter((alert) => !alert.tooCommon).length).toBeGreaterThan(10);
    for (const outcome of outcomes.slice(1)) {
      expect([...outcome.keys()].sort()).toEqual([...outcomes[0]!.keys()].sort());
      for (const [id, alert] of outcome) expect(alert).toEqual(outcomes[0]!.get(id));
    }
  });
});
