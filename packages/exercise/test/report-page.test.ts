import { describe, expect, it } from 'vitest';
import {
  afterActionHtml,
  afterActionReport,
  axisFor,
  quantile,
  reportFigures,
  type AfterActionReport,
} from '@renkei/exercise';
import type { ExpectationOutcome, Sector } from '@renkei/schema';

const MINUTE = 60_000;
const start = Date.parse('2026-12-01T00:00:00Z');
/** Real time of a scenario minute at speed 60: a scenario minute is a real second. */
const at = (minutes: number) => start + minutes * 1_000;
const SECTORS: Record<string, Sector> = {
  'finance-ceptar': 'finance',
  'acme-bank': 'finance',
  'tokyo-bank': 'finance',
  'telecom-ceptar': 'telecom',
  'water-ceptar': 'water',
  gsoc: 'central-government',
};

const ack = (participant: string, takenMinutes: number | null, within = 10): ExpectationOutcome => ({
  expectation: 'ack',
  kind: 'acknowledge',
  participant,
  status: takenMinutes === null ? 'missed' : takenMinutes <= within ? 'met' : 'late',
  takenMs: takenMinutes === null ? null : takenMinutes * MINUTE,
  dueAt: new Date(at(12)).toISOString(),
  respondedAt: takenMinutes === null ? null : new Date(at(2 + takenMinutes)).toISOString(),
});

function reportWith(title: { ja: string; en: string }): AfterActionReport {
  const clock = { startedAt: start, speed: 60, pauses: [], endedAt: at(40) };
  return afterActionReport({
    run: {
      id: '00000000-0000-4000-8000-000000000002',
      scenario: { id: 'drill', version: 3, title },
      state: 'completed',
      speed: 60,
      startedAt: new Date(start).toISOString(),
      endedAt: new Date(at(40)).toISOString(),
    },
    clock,
    outcomes: [
      ack('finance-ceptar', 2),
      ack('acme-bank', 4),
      ack('tokyo-bank', 12),
      ack('telecom-ceptar', 6),
      ack('water-ceptar', null),
      {
        expectation: 'tri',
        kind: 'triage',
        participant: 'gsoc',
        status: 'met',
        takenMs: 3 * MINUTE,
        dueAt: null,
        respondedAt: new Date(at(4)).toISOString(),
      },
    ],
    sectorOf: (id) => SECTORS[id],
    events: {
      injects: [at(0), at(1), at(2)],
      reports: [at(0), at(1), at(9)],
      alerts: [at(1)],
      warnings: [at(2)],
      acknowledgements: [at(4), at(6), at(8), at(14)],
      triage: [at(4)],
    },
    earlierRuns: [
      {
        runId: 'aaaaaaaa-0000-4000-8000-000000000001',
        startedAt: '2026-11-01T00:00:00.000Z',
        speed: 1,
        medianAckMs: 9 * MINUTE,
        expectations: { met: 1, late: 2, missed: 1, pending: 0, total: 4 },
      },
    ],
    now: at(40),
  });
}

describe('after-action figures', () => {
  const report = reportWith({ ja: '訓練', en: 'Drill' });
  const figures = reportFigures(report);

  it('gives each sector and organisation its values, quartiles and median of time to acknowledge', () => {
    const finance = figures.acknowledgement.bySector.find((row) => row.label === 'finance')!;
    expect(finance).toMatchObject({ expected: 3, acknowledged: 3 });
    expect(finance.valuesMs).toEqual([2 * MINUTE, 4 * MINUTE, 12 * MINUTE]);
    expect(finance.box).toEqual({
      min: 2 * MINUTE,
      q1: 3 * MINUTE,
      median: 4 * MINUTE,
      q3: 8 * MINUTE,
      max: 12 * MINUTE,
    });
    const water = figures.acknowledgement.bySector.find((row) => row.label === 'water')!;
    expect(water).toMatchObject({ expected: 1, acknowledged: 0, box: null });
    expect(figures.acknowledgement.byOrganisation.map((row) => [row.label, row.box?.median ?? null])).toEqual(
      [
        ['acme-bank', 4 * MINUTE],
        ['finance-ceptar', 2 * MINUTE],
        ['tokyo-bank', 12 * MINUTE],
        ['telecom-ceptar', 6 * MINUTE],
        ['water-ceptar', null],
      ],
    );
    // The longest value (12 min) fits on the axis, in round ticks.
    expect(figures.acknowledgement.axis).toEqual({ maxMs: 12 * MINUTE, tickMs: 2 * MINUTE });
  });

  it('counts expectations met, late and missed over all and per kind', () => {
    expect(figures.expectations.all.total).toBe(6);
    expect(figures.expectations.all.met).toEqual({ count: 4, share: 4 / 6 });
    expect(figures.expectations.all.late.count).toBe(1);
    expect(figures.expectations.all.missed.count).toBe(1);
    expect(
      figures.expectations.byKind.map((row) => [row.kind, row.shares.met.count, row.shares.total]),
    ).toEqual([
      ['acknowledge', 3, 5],
      ['triage', 1, 1],
    ]);
  });

  it('puts every event on the timeline at its scenario time, alerts included', () => {
    const lane = (kind: string) => figures.timeline.lanes.find((row) => row.kind === kind)!.timesMs;
    expect(lane('injects')).toEqual([0, MINUTE, 2 * MINUTE]);
    expect(lane('alerts')).toEqual([MINUTE]);
    expect(lane('acknowledgements')).toEqual([4, 6, 8, 14].map((m) => m * MINUTE));
    expect(report.flow.reduce((sum, slice) => sum + slice.alerts, 0)).toBe(1);
    expect(figures.timeline.axis.maxMs).toBeGreaterThanOrEqual(40 * MINUTE);
  });

  it('compares with earlier runs of the scenario: median and share met', () => {
    expect(report.comparison.map((run) => run.runId)).toEqual([
      'aaaaaaaa-0000-4000-8000-000000000001',
      report.run.id,
    ]);
    expect(figures.comparison).toEqual([
      expect.objectContaining({ medianAckMs: 9 * MINUTE, metShare: 0.25, current: false }),
      expect.objectContaining({ medianAckMs: 5 * MINUTE, metShare: 4 / 6, met: 4, total: 6, current: true }),
    ]);
  });

  it('interpolates quartiles and picks round axis ticks', () => {
    expect(quantile([10], 0.25)).toBe(10);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(3); // 2.5 rounded: the median of two is their mean
    expect(quantile([0, 100], 0.75)).toBe(75);
    expect(axisFor(0)).toEqual({ maxMs: MINUTE, tickMs: MINUTE });
    expect(axisFor(43 * MINUTE)).toEqual({ maxMs: 50 * MINUTE, tickMs: 10 * MINUTE });
    expect(axisFor(5.5 * 60 * MINUTE)).toEqual({ maxMs: 6 * 60 * MINUTE, tickMs: 60 * MINUTE });
  });
});

describe('the printable page', () => {
  const report = reportWith({ ja: '<script>alert("訓練")</script>', en: '<script>alert(1)</script> & co' });

  it('draws every chart in both languages, with the figures and the exercise banner', () => {
    const en = afterActionHtml(report, 'en');
    const ja = afterActionHtml(report, 'ja');
    expect(en).toContain('<html lang="en">');
    expect(ja).toContain('<html lang="ja">');
    expect(en).toContain('EXERCISE — not real traffic');
    expect(ja).toContain('訓練 — 実際の事案ではありません');
    for (const html of [en, ja]) {
      // Four charts: by sector, by organisation, expectations, timeline, and the comparison.
      expect(html.match(/<svg /g)).toHaveLength(5);
      // The medians: overall 5m, finance 4m, telecom 6m; every value a dot.
      expect(html).toContain('5m 00s');
      expect(html).toContain('4m 00s');
      expect(html).toContain('6m 00s');
      expect(html.match(/<circle /g)).toHaveLength(2 * 4);
      expect(html).toContain('67%');
      expect(html).toContain('25%');
      expect(html).toContain('@media print');
    }
    expect(en).toContain('Time to acknowledge warnings');
    expect(en).toContain('no acknowledgement');
    expect(ja).toContain('注意喚起の受領確認までの時間');
    expect(ja).toContain('金融');
    expect(ja).toContain('受領確認なし');
    expect(ja).toContain('同じシナリオの実施');
  });

  it('escapes every text from the report and loads nothing', () => {
    for (const language of ['ja', 'en'] as const) {
      const html = afterActionHtml(report, language);
      expect(html).not.toMatch(/<script/i);
      expect(html).toContain('&lt;script&gt;');
      expect(html).not.toMatch(/\s(src|href)=/i);
      expect(html.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
    }
    expect(afterActionHtml(report, 'en')).toContain('&amp; co');
  });

  it('draws a report archived before alerts and the timeline were recorded', () => {
    const { timeline: _timeline, ...older } = report;
    const flow = older.flow.map(({ alerts: _alerts, ...slice }) => slice);
    const html = afterActionHtml({ ...older, flow } as unknown as AfterActionReport, 'en');
    expect(html.match(/<svg /g)).toHaveLength(5);
    expect(html).toContain('5m 00s');
  });
});
