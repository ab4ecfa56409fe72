import { describe, expect, it } from 'vitest';
import type { IndicatorType } from '@renkei/indicators';
import type { AlertRecord } from '@renkei/schema';
import {
  chunkWrites,
  correlateChunk,
  type ChunkBase,
  type IncomingReport,
  type MemoryCorrelationState,
} from '@renkei/correlation';
import { DAY, facts, hub, incoming, MINUTE, random } from './support.js';

const ORGANISATIONS = [
  ['a-csirt', 'central-government'],
  ['b-csirt', 'central-government'],
  ['c-ceptar', 'finance'],
  ['d-ceptar', 'finance'],
  ['e-op', 'telecom'],
] as const;

/** Shared indicators, URLs and hosts, bunched times (surges), drills: every rule fires. */
function burst(seed: number, count: number): IncomingReport[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const shared: [IndicatorType, string][] = [
    ['domain', 'c2-a.example'],
    ['domain', 'c2-b.example'],
    ['ipv4', '45.33.32.156'],
    ['url', 'https://c2-a.example/gate.php'],
    ['md5', 'c4ca4238a0b923820dcc509a6f75849b'],
    ['domain', 'watched.example'],
  ];
  return Array.from({ length: count }, (_, i) => {
    const [org, sector] = pick(ORGANISATIONS);
    const report = facts(org, {
      id: 50_000 + seed * 1_000 + i,
      sector,
      category: pick(['malware', 'phishing'] as const),
      at:
        next() < 0.4
          ? 3 * DAY + Math.floor(next() * 30) * MINUTE
          : Math.floor(next() * 30) * DAY + Math.floor(next() * 90) * MINUTE,
      exercise: next() < 0.1,
    });
    const indicators: [IndicatorType, string][] = [];
    for (let k = Math.floor(next() * 4); k > 0; k -= 1) indicators.push(pick(shared));
    indicators.push(['domain', `unique-${seed}-${i}.example`]);
    return incoming(report, indicators);
  });
}

/** The store before a chunk, answering as the correlator's snapshot does: one row more than asked. */
function baseOf(state: MemoryCorrelationState): ChunkBase {
  return {
    sightingRows: (key, exercise, fromMs, toMs, limit) =>
      state.sightings(key, exercise, fromMs, toMs, limit + 1).rows,
    sectorRows: (sector, category, exercise, fromMs, toMs, limit) =>
      state.sectorReports(sector, category, exercise, fromMs, toMs, limit + 1).rows,
    watchlistEntries: (key) => state.watchlistEntries(key),
    alert: (key) => state.alert(key),
    isTooCommon: (key, exercise) => state.isTooCommon(key, exercise),
  };
}

/** Commits a chunk's results into the store, as the chunk's transaction does. */
function commitChunk(state: MemoryCorrelationState, chunk: readonly IncomingReport[]): void {
  const outcomes = correlateChunk(chunk, baseOf(state), state.settings);
  chunk.forEach((report, index) => {
    state.reports.push(report.report);
    state.allSightings.push(...report.sightings);
    for (const { key, exercise } of outcomes[index]!.tooCommon) state.tooCommonKeys.add(`${exercise}:${key}`);
  });
  const perAlert = new Map<string, string[]>();
  for (const write of chunkWrites(outcomes)) {
    const previous = state.alerts.get(write.correlationKey);
    expect(write.record.version).toBe((previous?.version ?? 0) + 1);
    expect(write.record.history.map((h) => h.version)).toEqual(
      Array.from({ length: write.record.version }, (_, i) => i + 1),
    );
    state.alerts.set(write.correlationKey, write.record);
    state.versions.push(write);
    perAlert.set(write.correlationKey, [
      ...(perAlert.get(write.correlationKey) ?? []),
      write.record.history.at(-1)!.change,
    ]);
  }
  // One transaction, one version per alert (and the mark, when it became too common).
  for (const changes of perAlert.values()) {
    expect([['contribution'], ['too-common'], ['contribution', 'too-common']]).toContainEqual(changes);
  }
}

/** An alert without what depends on how reports were grouped into transactions. */
function settled(alert: AlertRecord) {
  const { version: _v, history: _h, contributions, ...rest } = alert;
  return {
    ...rest,
    contributions: contributions.map(({ addedInVersion: _a, ...contribution }) => contribution),
  };
}

describe('correlateChunk: a chunk gives what its reports give one by one', () => {
  const settingsCases = [
    { name: 'default settings', overrides: {} },
    // Small caps, so neighbourhoods are truncated and the merge must tell "more exist".
    { name: 'small caps', overrides: { tooCommonOrganisations: 3, maxContributions: 4 } },
  ];
  for (const { name, overrides } of settingsCases) {
    it.each([1, 7, 120])(`${name}: chunks of %i, the same alerts`, { timeout: 30_000 }, (size) => {
      for (const seed of [1, 2]) {
        const reports = burst(seed, 120);
        const entry = {
          id: '33333333-3333-4333-8333-333333333333',
          indicator: { type: 'domain' as const, value: 'watched.example' },
          createdAt: new Date(Date.parse(reports[0]!.report.detectedAt)).toISOString(),
          expiresAt: null,
          removedAt: null,
        };
        const oneByOne = hub(overrides);
        oneByOne.addWatchlistEntry(entry);
        for (const report of reports) oneByOne.process(report);

        const chunked = hub(overrides);
        chunked.addWatchlistEntry(entry);
        for (let start = 0; start < reports.length; start += size) {
          commitChunk(chunked, reports.slice(start, start + size));
        }
        expect(chunked.alerts.size).toBeGreaterThan(10);
        const final = (state: MemoryCorrelationState) =>
          [...state.alerts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, alert]) => settled(alert));
        expect(final(chunked)).toEqual(final(oneByOne));
        // A chunk of one is a transaction per report: then every version is the same too.
        if (size === 1) expect(chunked.versions).toEqual(oneByOne.versions);
        else expect(chunked.versions.length).toBeLessThan(oneByOne.versions.length);
        expect([...chunked.tooCommonKeys].sort()).toEqual([...oneByOne.tooCommonKeys].sort());
      }
    });
  }

  it('reads the store once for the chunk, and the chunk’s earlier reports from memory', () => {
    const state = hub();
    const a = incoming(facts('a-csirt', { at: DAY }), [['domain', 'chunk-only.example']]);
    const b = incoming(facts('b-csirt', { at: DAY + MINUTE }), [['domain', 'chunk-only.example']]);
    const [first, second] = correlateChunk([a, b], baseOf(state), state.settings);
    expect(first!.writes).toEqual([]);
    expect(second!.writes.map((w) => [w.record.kind, w.record.version])).toEqual([['shared-indicator', 1]]);
  });
});
