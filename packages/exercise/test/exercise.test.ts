import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  afterActionCsv,
  afterActionHtml,
  afterActionReport,
  checkScenario,
  evaluateExpectations,
  realTimeOf,
  scenarioTime,
  SCENARIO_TEMPLATES_DIR,
  type RunClock,
  type RunFacts,
} from '@renkei/exercise';
import { durationMs, type ExerciseScenarioInput, type Sector } from '@renkei/schema';

const ORGANISATIONS: Record<string, { sector: Sector; enabled: boolean }> = {
  gsoc: { sector: 'central-government', enabled: true },
  'mhlw-csirt': { sector: 'central-government', enabled: true },
  'finance-ceptar': { sector: 'finance', enabled: true },
  'acme-bank': { sector: 'finance', enabled: true },
  'telecom-ceptar': { sector: 'telecom', enabled: true },
  'tokyo-power': { sector: 'electricity', enabled: true },
  'old-bank': { sector: 'finance', enabled: false },
};
const lookup = (id: string) => (ORGANISATIONS[id] ? { id, ...ORGANISATIONS[id] } : undefined);
const inSectors = (sectors: readonly Sector[]) =>
  Object.entries(ORGANISATIONS)
    .filter(([, o]) => o.enabled && sectors.includes(o.sector))
    .map(([id]) => id);
const check = (scenario: unknown) => checkScenario(scenario, lookup, inSectors);

const MINUTE = 60_000;

function scenario(overrides: Partial<ExerciseScenarioInput> = {}): ExerciseScenarioInput {
  return {
    schema: 'renkei.exercise-scenario.v1',
    id: 'drill',
    version: 1,
    title: { ja: '訓練', en: 'Drill' },
    description: { ja: '説明', en: 'About' },
    participants: [{ sector: 'finance' }, { organisation: 'telecom-ceptar' }],
    injects: [
      {
        id: 'phish',
        at: 'PT0M',
        kind: 'report',
        from: 'gsoc',
        report: {
          title: 'Phish',
          category: 'phishing',
          severity: 'high',
          tlp: 'GREEN',
          indicators: [{ type: 'domain', value: 'evil.example' }],
        },
      },
      {
        id: 'warn',
        at: 'PT5M',
        kind: 'warning',
        warning: { title: 'W', body: 'B', severity: 'high', tlp: 'GREEN', sectors: ['finance', 'telecom'] },
      },
      {
        id: 'ask',
        at: 'PT10M',
        kind: 'information-request',
        to: 'finance-ceptar',
        message: { ja: '報告して', en: 'Report' },
      },
    ],
    expectations: [
      { id: 'ack', kind: 'acknowledge', after: 'warn', within: 'PT10M' },
      {
        id: 'back',
        kind: 'report',
        participant: 'finance-ceptar',
        indicator: { type: 'domain', value: 'evil[.]example' },
        after: 'ask',
        within: 'PT20M',
      },
      { id: 'tri', kind: 'triage', after: 'phish', within: 'PT15M' },
      { id: 'pub', kind: 'publish-warning', sector: 'telecom', after: 'phish', within: 'PT30M' },
    ],
    ...overrides,
  };
}

describe('scenario check', () => {
  it('accepts a good scenario and names its participants', () => {
    const result = check(scenario());
    expect(result).toMatchObject({
      ok: true,
      participants: ['acme-bank', 'finance-ceptar', 'telecom-ceptar'],
    });
  });

  it('ships two bilingual templates that pass on the demo registry', () => {
    const files = readdirSync(SCENARIO_TEMPLATES_DIR).filter((name) => name.endsWith('.json'));
    expect(files.sort()).toEqual(['cross-sector-ddos.json', 'targeted-attack-finance-telecom.json']);
    for (const file of files) {
      const template = JSON.parse(readFileSync(new URL(file, SCENARIO_TEMPLATES_DIR), 'utf8'));
      const result = check(template);
      expect(result, file).toMatchObject({ ok: true });
      expect(template.title.ja).not.toEqual(template.title.en);
    }
  });

  it.each([
    ['a malformed offset', { injects: [{ ...scenario().injects[0]!, at: '5 minutes' }] }, 'injects[0].at'],
    ['an unknown kind', { injects: [{ id: 'x', at: 'PT1M', kind: 'phone-call' }] }, 'injects[0].kind'],
    ['a wrong schema name', { schema: 'renkei.exercise-scenario.v0' }, 'schema'],
    ['no participants', { participants: [] }, 'participants'],
    [
      'an unknown organisation',
      { participants: [{ organisation: 'nobody' }] },
      'participants[0].organisation',
    ],
    [
      'a disabled organisation',
      { participants: [{ organisation: 'old-bank' }] },
      'participants[0].organisation',
    ],
    [
      'a report from an unknown organisation',
      { injects: [{ ...scenario().injects[0]!, from: 'ghost' }, ...scenario().injects.slice(1)] },
      'injects[0].from',
    ],
  ] as const)('refuses %s, naming the path', (_what, overrides, path) => {
    const result = check({ ...scenario(), ...(overrides as object) });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((issue) => issue.path)).toContain(path);
  });

  it('refuses a deadline at its inject, a wrong anchor, a repeated id and a non-participant', () => {
    const base = scenario();
    const result = check({
      ...base,
      injects: [...base.injects, { ...base.injects[1]!, id: 'warn' }],
      expectations: [
        { id: 'a', kind: 'acknowledge', after: 'phish', within: 'PT10M' },
        { id: 'b', kind: 'triage', after: 'phish', within: 'PT0S' },
        { id: 'c', kind: 'triage', after: 'nowhere', within: 'PT1M' },
        {
          id: 'd',
          kind: 'report',
          participant: 'tokyo-power',
          indicator: { type: 'domain', value: 'x.example' },
          after: 'ask',
          within: 'PT1M',
        },
      ],
    });
    expect(result.ok ? [] : result.issues).toEqual([
      { path: 'injects[3].id', message: 'repeats the id warn' },
      { path: 'expectations[0].after', message: 'must name a warning inject (phish is inject report)' },
      { path: 'expectations[1].within', message: 'puts the deadline at or before what it follows' },
      { path: 'expectations[2].after', message: 'names no inject or expectation (nowhere)' },
      { path: 'expectations[3].participant', message: 'is not a participant (tokyo-power)' },
    ]);
  });

  it('refuses a cycle of expectations', () => {
    const indicator = { type: 'domain', value: 'x.example' } as const;
    const result = check(
      scenario({
        expectations: [
          { id: 'one', kind: 'report', participant: 'acme-bank', indicator, after: 'two', within: 'PT1M' },
          { id: 'two', kind: 'report', participant: 'acme-bank', indicator, after: 'one', within: 'PT1M' },
          { id: 'three', kind: 'report', participant: 'acme-bank', indicator, after: 'one', within: 'PT1M' },
        ],
      }),
    );
    expect(result.ok ? [] : result.issues).toEqual([
      { path: 'expectations[0].after', message: 'makes a cycle of expectations (one → two → one)' },
    ]);
  });
});

describe('run clock', () => {
  const clock: RunClock = {
    startedAt: 1_000,
    speed: 60,
    pauses: [{ from: 2_000, to: 5_000 }],
    endedAt: null,
  };

  it('runs at speed, stands still while paused and after the end', () => {
    expect(scenarioTime(clock, 500)).toBe(0);
    expect(scenarioTime(clock, 2_000)).toBe(60_000);
    expect(scenarioTime(clock, 4_000)).toBe(60_000);
    expect(scenarioTime(clock, 6_000)).toBe(120_000);
    expect(scenarioTime({ ...clock, endedAt: 6_000 }, 60_000)).toBe(120_000);
    expect(scenarioTime({ ...clock, pauses: [{ from: 2_000, to: null }] }, 9_000)).toBe(60_000);
    expect(durationMs('P1DT2H3M4.5S')).toBe(((24 + 2) * 60 + 3) * MINUTE + 4_500);
  });

  it('finds the real time of a scenario offset, past or to come', () => {
    expect(realTimeOf(clock, 30_000, 10_000)).toBe(1_500);
    expect(realTimeOf(clock, 90_000, 10_000)).toBe(5_500);
    // 6 minutes elapsed by 10 s: (10 - 1 - 3 paused) s × 60.
    expect(realTimeOf(clock, 360_000, 10_000)).toBe(10_000);
    expect(realTimeOf(clock, 600_000, 10_000)).toBe(14_000);
    expect(realTimeOf({ ...clock, pauses: [{ from: 2_000, to: null }] }, 120_000, 10_000)).toBeNull();
  });
});

describe('expectations', () => {
  const parsed = check(scenario());
  if (!parsed.ok) throw new Error('fixture');
  const start = 1_000_000;
  // Speed 1: real and scenario time are the same.
  const at = (minutes: number) => start + minutes * MINUTE;
  const facts = (overrides: Partial<RunFacts> = {}): RunFacts => ({
    clock: { startedAt: start, speed: 1, pauses: [], endedAt: null },
    gsoc: 'gsoc',
    participants: parsed.participants,
    injects: {
      phish: { sentAt: at(0), alertIds: ['alert-1'], alertAt: at(1) },
      warn: {
        sentAt: at(5),
        warningId: 'w-1',
        recipients: ['acme-bank', 'finance-ceptar', 'telecom-ceptar'],
      },
      ask: { sentAt: at(10) },
    },
    acknowledgements: [
      { warningId: 'w-1', organisationId: 'finance-ceptar', at: at(8) },
      { warningId: 'w-1', organisationId: 'acme-bank', at: at(25) },
      { warningId: 'w-other', organisationId: 'telecom-ceptar', at: at(6) },
    ],
    warnings: [
      { id: 'w-2', sectors: ['finance'], at: at(3) },
      { id: 'w-3', sectors: 'all', at: at(20) },
    ],
    reports: [
      { organisationId: 'acme-bank', indicators: [{ type: 'domain', value: 'evil.example' }], at: at(12) },
      {
        organisationId: 'finance-ceptar',
        indicators: [{ type: 'domain', value: 'EVIL.example.' }],
        at: at(22),
      },
    ],
    triage: [
      { alertId: 'alert-2', at: at(2) },
      { alertId: 'alert-1', at: at(16) },
    ],
    ...overrides,
  });
  const outcome = (list: ReturnType<typeof evaluateExpectations>, id: string, participant?: string) =>
    list.find((o) => o.expectation === id && (participant === undefined || o.participant === participant));

  it('scores every kind: met with the time taken, late, missed and pending', () => {
    const list = evaluateExpectations(parsed.scenario, facts(), at(40));
    expect(outcome(list, 'ack', 'finance-ceptar')).toMatchObject({ status: 'met', takenMs: 3 * MINUTE });
    expect(outcome(list, 'ack', 'acme-bank')).toMatchObject({ status: 'late', takenMs: 20 * MINUTE });
    // Acknowledged another warning only.
    expect(outcome(list, 'ack', 'telecom-ceptar')).toMatchObject({ status: 'missed', takenMs: null });
    // The report came 12 minutes after the request, its indicator written another way.
    expect(outcome(list, 'back')).toMatchObject({
      status: 'met',
      takenMs: 12 * MINUTE,
      participant: 'finance-ceptar',
    });
    // The triage of another alert does not count; the right one came at 16 of 15 minutes.
    expect(outcome(list, 'tri')).toMatchObject({ status: 'late', takenMs: 16 * MINUTE, participant: 'gsoc' });
    // The finance-only warning does not reach telecom, and came before the alert; the one to all did.
    expect(outcome(list, 'pub')).toMatchObject({ status: 'met', takenMs: 20 * MINUTE });
    expect(list).toHaveLength(6);

    const early = evaluateExpectations(parsed.scenario, facts(), at(9));
    expect(outcome(early, 'ack', 'acme-bank')).toMatchObject({
      status: 'pending',
      dueAt: new Date(at(15)).toISOString(),
    });
    expect(outcome(early, 'back')).toMatchObject({ status: 'pending', dueAt: null });
    const ended = evaluateExpectations(
      parsed.scenario,
      facts({ clock: { startedAt: start, speed: 1, pauses: [], endedAt: at(9) } }),
      at(9),
    );
    expect(outcome(ended, 'back')).toMatchObject({ status: 'missed' });
  });

  it('measures in scenario time: the same run at speed 60 scores the same', () => {
    const fast = (minutes: number) => start + (minutes * MINUTE) / 60;
    const scaled = facts({
      clock: { startedAt: start, speed: 60, pauses: [], endedAt: null },
      injects: {
        phish: { sentAt: fast(0), alertIds: ['alert-1'], alertAt: fast(1) },
        warn: {
          sentAt: fast(5),
          warningId: 'w-1',
          recipients: ['acme-bank', 'finance-ceptar', 'telecom-ceptar'],
        },
        ask: { sentAt: fast(10) },
      },
      acknowledgements: [
        { warningId: 'w-1', organisationId: 'finance-ceptar', at: fast(8) },
        { warningId: 'w-1', organisationId: 'acme-bank', at: fast(25) },
      ],
      warnings: [{ id: 'w-3', sectors: 'all', at: fast(20) }],
      reports: [
        {
          organisationId: 'finance-ceptar',
          indicators: [{ type: 'domain', value: 'evil.example' }],
          at: fast(22),
        },
      ],
      triage: [{ alertId: 'alert-1', at: fast(16) }],
    });
    const list = evaluateExpectations(parsed.scenario, scaled, fast(40));
    expect(list.map((o) => [o.expectation, o.participant, o.status, o.takenMs])).toEqual([
      ['ack', 'acme-bank', 'late', 20 * MINUTE],
      ['ack', 'finance-ceptar', 'met', 3 * MINUTE],
      ['ack', 'telecom-ceptar', 'missed', null],
      ['back', 'finance-ceptar', 'met', 12 * MINUTE],
      ['tri', 'gsoc', 'late', 16 * MINUTE],
      ['pub', 'gsoc', 'met', 20 * MINUTE],
    ]);
  });

  it('starts an expectation that follows another when everyone met that one', () => {
    const chained = check(
      scenario({
        expectations: [
          { id: 'tri', kind: 'triage', after: 'phish', within: 'PT15M' },
          {
            id: 'then',
            kind: 'report',
            participant: 'acme-bank',
            indicator: { type: 'domain', value: 'evil.example' },
            after: 'tri',
            within: 'PT5M',
          },
        ],
      }),
    );
    if (!chained.ok) throw new Error('fixture');
    const list = evaluateExpectations(
      chained.scenario,
      facts({
        triage: [{ alertId: 'alert-1', at: at(10) }],
        reports: [
          {
            organisationId: 'acme-bank',
            indicators: [{ type: 'domain', value: 'evil.example' }],
            at: at(13),
          },
        ],
      }),
      at(40),
    );
    expect(outcome(list, 'then')).toMatchObject({ status: 'met', takenMs: 3 * MINUTE });
  });
});

describe('after-action report', () => {
  const parsed = check(scenario());
  if (!parsed.ok) throw new Error('fixture');
  const start = Date.parse('2026-12-01T00:00:00Z');
  const at = (minutes: number) => start + minutes * MINUTE;
  const outcomes = evaluateExpectations(
    parsed.scenario,
    {
      clock: { startedAt: start, speed: 1, pauses: [], endedAt: at(60) },
      gsoc: 'gsoc',
      participants: parsed.participants,
      injects: {
        phish: { sentAt: at(0), alertIds: ['a'], alertAt: at(1) },
        warn: {
          sentAt: at(5),
          warningId: 'w',
          recipients: ['acme-bank', 'finance-ceptar', 'telecom-ceptar'],
        },
        ask: { sentAt: at(10) },
      },
      acknowledgements: [
        { warningId: 'w', organisationId: 'finance-ceptar', at: at(7) },
        { warningId: 'w', organisationId: 'acme-bank', at: at(11) },
        { warningId: 'w', organisationId: 'telecom-ceptar', at: at(30) },
      ],
      warnings: [],
      reports: [],
      triage: [],
    },
    at(60),
  );
  const report = afterActionReport({
    run: {
      id: '00000000-0000-4000-8000-000000000001',
      scenario: { id: 'drill', version: 1, title: { ja: '訓練 <b>', en: 'Drill <b>' } },
      state: 'completed',
      speed: 1,
      startedAt: new Date(start).toISOString(),
      endedAt: new Date(at(60)).toISOString(),
    },
    clock: { startedAt: start, speed: 1, pauses: [], endedAt: at(60) },
    outcomes,
    sectorOf: (id) => ORGANISATIONS[id]?.sector,
    events: {
      injects: [at(0), at(5), at(10)],
      reports: [],
      warnings: [],
      acknowledgements: [at(7), at(11), at(30)],
      triage: [],
    },
    earlierRuns: [
      {
        runId: 'earlier',
        startedAt: '2026-11-01T00:00:00.000Z',
        speed: 60,
        medianAckMs: 9 * MINUTE,
        expectations: { met: 1, late: 0, missed: 5, pending: 0, total: 6 },
      },
    ],
    now: at(60),
  });

  it('gives medians per sector and organisation, counts and the comparison', () => {
    expect(report.acknowledgement.medianMs).toBe(6 * MINUTE);
    expect(report.acknowledgement.bySector).toEqual([
      {
        sector: 'finance',
        expected: 2,
        acknowledged: 2,
        medianMs: 4 * MINUTE,
        valuesMs: [2 * MINUTE, 6 * MINUTE],
      },
      { sector: 'telecom', expected: 1, acknowledged: 1, medianMs: 25 * MINUTE, valuesMs: [25 * MINUTE] },
    ]);
    expect(report.expectations).toMatchObject({ total: 6, met: 2, late: 1, missed: 3, pending: 0 });
    expect(report.comparison.map((run) => [run.runId, run.medianAckMs])).toEqual([
      ['earlier', 9 * MINUTE],
      [report.run.id, 6 * MINUTE],
    ]);
    expect(report.flow.reduce((sum, slice) => sum + slice.acknowledgements, 0)).toBe(3);
    expect(report.flow.reduce((sum, slice) => sum + slice.injects, 0)).toBe(3);
  });

  it('renders CSV and a printable page in both languages, escaping what it was given', () => {
    const csv = afterActionCsv(report);
    expect(csv.split('\r\n')[0]).toBe(
      'run,scenario,expectation,kind,participant,status,taken_ms,due_at,responded_at',
    );
    expect(csv.split('\r\n')).toHaveLength(6 + 2);
    for (const language of ['ja', 'en'] as const) {
      const html = afterActionHtml(report, language);
      expect(html).toContain(`<html lang="${language}">`);
      expect(html).not.toContain('<b>');
      expect(html).toContain('&lt;b&gt;');
      expect(html).toContain('<svg');
    }
    expect(afterActionHtml(report, 'ja')).toContain('事後評価報告');
  });
});
