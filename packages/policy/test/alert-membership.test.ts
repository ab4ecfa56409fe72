import { describe, expect, it } from 'vitest';
import { readIndicators, type IndicatorType } from '@renkei/indicators';
import type { AlertRecord, ReportCategory, Sector, Tlp } from '@renkei/schema';
import { DEFAULT_CORRELATION_SETTINGS, MemoryCorrelationState, type ReportFacts } from '@renkei/correlation';
import { historyFor, knownReportIds, VIEW_RULES } from '@renkei/policy';

/**
 * A viewer's view of an alert must be the one the correlator would have
 * made from the reports that viewer may know of alone: these tests run the
 * correlator's own rules (in memory) over a history twice, once whole and
 * once without the reports a viewer may not know of, and compare the
 * viewer's view of each alert. The cases are the findings of the
 * differential leak test (`npm run leak-check`), then random histories.
 */

const MINUTE = 60_000;
const BASE = Date.parse('2026-11-01T00:00:00.000Z');

interface Report {
  id: number;
  org: string;
  sector: Sector;
  tlp: Tlp;
  category?: ReportCategory;
  /** Detection, in minutes after BASE. */
  at: number;
  indicators: readonly (readonly [IndicatorType, string])[];
}

const reportId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function factsOf(report: Report): ReportFacts {
  const detected = BASE + report.at * MINUTE;
  return {
    reportId: reportId(report.id),
    organisationId: report.org,
    sector: report.sector,
    tlp: report.tlp,
    severity: 'low',
    category: report.category ?? 'malware',
    detectedAt: new Date(detected).toISOString(),
    // Processed in the order given: later reports are received later.
    receivedAt: new Date(BASE + 30 * 86_400_000 + report.id * MINUTE).toISOString(),
    exercise: false,
  };
}

/** The alerts the correlator makes of the reports, processed one at a time in the order given. */
function correlate(reports: readonly Report[]): Map<string, AlertRecord> {
  const state = new MemoryCorrelationState(DEFAULT_CORRELATION_SETTINGS);
  for (const report of reports) {
    const facts = factsOf(report);
    const { observables } = readIndicators(report.indicators.map(([type, value]) => ({ type, value })));
    state.process({
      report: facts,
      sightings: observables.map((o) => ({
        key: o.key,
        indicator: o.indicator,
        report: facts,
        written: o.written,
        hostOf: o.hostOf,
      })),
    });
  }
  return new Map([...state.alerts.values()].map((record) => [record.id, record]));
}

/** What a viewer observes of one alert: its view, how many versions it had, and when. */
function observed(org: string, record: AlertRecord | undefined) {
  if (!record) return null;
  const history = historyFor(org, record);
  if (!history.content) return null;
  return { ...history, lastChangedIn: undefined };
}

/** The reports `org` may know of in any alert of the whole history, as the leak test decides. */
function knownTo(org: string, alerts: Map<string, AlertRecord>, reports: readonly Report[]): Report[] {
  const known = new Set<string>();
  for (const record of alerts.values()) for (const id of knownReportIds(org, record)) known.add(id);
  // A report in no alert changes nothing either way; the viewer's own stay.
  return reports.filter((report) => report.org === org || known.has(reportId(report.id)));
}

/** Every alert either world has, as `org` sees it in each. */
function compare(org: string, reports: readonly Report[]) {
  const whole = correlate(reports);
  const without = correlate(knownTo(org, whole, reports));
  const ids = [...new Set([...whole.keys(), ...without.keys()])].sort();
  return {
    whole: ids.map((id) => [id, observed(org, whole.get(id))] as const),
    without: ids.map((id) => [id, observed(org, without.get(id))] as const),
    alerts: whole,
    kinds: new Map([...whole.values(), ...without.values()].map((record) => [record.id, record.kind])),
  };
}

const d = (name: string) => ['domain', `${name}.example`] as const;

describe('a campaign a viewer sees is the one its known reports make', () => {
  it('finding 1: leaves out a viewer’s own report that joined only by pairing with a hidden one', () => {
    // g and s (GREEN) make the campaign; own report v pairs only with the RED one.
    const reports: Report[] = [
      { id: 1, org: 'g', sector: 'finance', tlp: 'GREEN', at: 0, indicators: [d('c2-alpha'), d('c2-bravo')] },
      { id: 2, org: 's', sector: 'water', tlp: 'GREEN', at: 10, indicators: [d('c2-alpha'), d('c2-bravo')] },
      {
        id: 3,
        org: 'viewer',
        sector: 'gas',
        tlp: 'GREEN',
        at: 20,
        indicators: [d('c2-alpha'), d('c2-bravo'), d('c2-echo')],
      },
      {
        id: 4,
        org: 'hidden',
        sector: 'railway',
        tlp: 'RED',
        at: 30,
        indicators: [d('c2-echo'), d('c2-alpha')],
      },
    ];
    // Report 3 shares alpha and bravo with 1 and 2 as well: drop that so it pairs only with 4.
    reports[2] = { ...reports[2]!, indicators: [d('c2-alpha'), d('c2-echo')] };
    const { whole, without, alerts } = compare('viewer', reports);
    expect(whole).toEqual(without);
    const campaign = [...alerts.values()].find((record) => record.kind === 'campaign')!;
    expect(campaign.contributions.map((c) => c.organisationId).sort()).toEqual([
      'g',
      'hidden',
      's',
      'viewer',
    ]);
    const view = historyFor('viewer', campaign);
    expect(view.content?.reportIds).toEqual([]);
    expect(view.content?.sectors).toEqual(['finance', 'water']);
    expect(view.versions).toBe(1);
  });

  it('finding 1: a shared report that joined through a hidden pairing moves neither sectors, dates nor versions', () => {
    const reports: Report[] = [
      {
        id: 1,
        org: 'viewer',
        sector: 'finance',
        tlp: 'GREEN',
        at: 0,
        indicators: [d('c2-alpha'), d('c2-bravo')],
      },
      { id: 2, org: 'g', sector: 'water', tlp: 'GREEN', at: 10, indicators: [d('c2-alpha'), d('c2-bravo')] },
      // Joins the campaign only with the AMBER+STRICT report, days later.
      {
        id: 3,
        org: 'late',
        sector: 'gas',
        tlp: 'CLEAR',
        at: 5 * 1440,
        indicators: [d('c2-alpha'), d('c2-bravo')],
      },
      {
        id: 4,
        org: 'strict',
        sector: 'railway',
        tlp: 'AMBER+STRICT',
        at: 5 * 1440 + 30,
        indicators: [d('c2-alpha'), d('c2-bravo')],
      },
    ];
    // Report 3 is far from 1 and 2 only if the window is shorter than 5 days: move it out of it instead.
    const far = VIEW_RULES.correlationWindowMs / MINUTE + 60;
    reports[2] = { ...reports[2]!, at: far };
    reports[3] = { ...reports[3]!, at: far - 30 };
    // 4 is within the window of 1 and 2 too, so it must stay apart from them: detected after both, but 3 after 4.
    const { whole, without } = compare('viewer', reports);
    expect(whole).toEqual(without);
  });

  it('finding 1 for shared-indicator alerts: a GREEN report joined only through a RED one stays out', () => {
    const far = VIEW_RULES.correlationWindowMs / MINUTE + 60;
    const reports: Report[] = [
      { id: 1, org: 'viewer', sector: 'finance', tlp: 'GREEN', at: 0, indicators: [d('shared')] },
      { id: 2, org: 'g', sector: 'water', tlp: 'GREEN', at: 10, indicators: [d('shared')] },
      { id: 3, org: 'red', sector: 'gas', tlp: 'RED', at: far - 100, indicators: [d('shared')] },
      { id: 4, org: 'late', sector: 'railway', tlp: 'GREEN', at: far + 1000, indicators: [d('shared')] },
    ];
    const { whole, without, alerts } = compare('viewer', reports);
    expect(whole).toEqual(without);
    const alert = [...alerts.values()][0]!;
    expect(alert.contributions).toHaveLength(4);
    expect(historyFor('viewer', alert).content?.sectors).toEqual(['finance', 'water']);
  });

  it('finding 1 for sector surges: a report that makes a surge only with a RED one stays out', () => {
    const surge = (id: number, org: string, at: number, tlp: Tlp = 'GREEN'): Report => ({
      id,
      org,
      sector: 'finance',
      tlp,
      category: 'phishing',
      at,
      indicators: [d(`surge-${id}`)],
    });
    const reports = [
      surge(1, 'viewer', 0),
      ...[2, 3, 4, 5].map((id) => surge(id, `o${id}`, id)),
      // Within 60 minutes of the RED reports only, not of the five first.
      surge(6, 'o6', 100),
      ...[7, 8, 9, 10].map((id) => surge(id, `r${id}`, 60 + id, 'RED')),
    ];
    const { whole, without } = compare('viewer', reports);
    expect(whole).toEqual(without);
  });

  // The viewer's report and the GREEN one share c2-alpha too, so the correlator files their
  // pair under the c2-alpha campaign; only the hidden report pairs them into c2-charlie's.
  it('finding 2: a campaign that only a hidden report keyed is not shown', () => {
    const reports: Report[] = [
      {
        id: 1,
        org: 'viewer',
        sector: 'finance',
        tlp: 'GREEN',
        at: 0,
        indicators: [d('c2-alpha'), d('c2-charlie'), d('c2-delta')],
      },
      {
        id: 2,
        org: 'g',
        sector: 'water',
        tlp: 'GREEN',
        at: 10,
        indicators: [d('c2-alpha'), d('c2-charlie'), d('c2-delta')],
      },
      {
        id: 3,
        org: 'strict',
        sector: 'gas',
        tlp: 'AMBER+STRICT',
        at: 20,
        indicators: [d('c2-charlie'), d('c2-delta')],
      },
    ];
    const { whole, without } = compare('viewer', reports);
    expect(whole).toEqual(without);
  });

  it('keeps a campaign whose known pair is filed under it, and its pair’s indicators only', () => {
    const reports: Report[] = [
      {
        id: 1,
        org: 'viewer',
        sector: 'finance',
        tlp: 'GREEN',
        at: 0,
        indicators: [d('c2-alpha'), d('c2-bravo')],
      },
      {
        id: 2,
        org: 'amber',
        sector: 'water',
        tlp: 'AMBER',
        at: 10,
        indicators: [d('c2-alpha'), d('c2-bravo')],
      },
      {
        id: 3,
        org: 'red',
        sector: 'gas',
        tlp: 'RED',
        at: 20,
        indicators: [d('c2-alpha'), d('c2-bravo'), d('c2-zulu')],
      },
      { id: 4, org: 'g', sector: 'gas', tlp: 'GREEN', at: 30, indicators: [d('c2-alpha'), d('c2-zulu')] },
    ];
    const { whole, without, alerts } = compare('viewer', reports);
    expect(whole).toEqual(without);
    const campaign = [...alerts.values()].find((record) => record.kind === 'campaign')!;
    const view = historyFor('viewer', campaign).content!;
    expect(view.indicators.map((i) => i.value)).toEqual(['c2-alpha.example', 'c2-bravo.example']);
    expect(view.organisationCount).toBe(2);
  });
});

/** A small deterministic generator, so a failure names its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const ORGS = [
  ['viewer', 'finance'],
  ['peer', 'finance'],
  ['water-1', 'water'],
  ['water-2', 'water'],
  ['gas-1', 'gas'],
] as const;
const TLPS: Tlp[] = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];
const POOL = ['c2-alpha', 'c2-bravo', 'c2-charlie', 'c2-delta', 'c2-echo'];

function history(seed: number, size: number): Report[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  return Array.from({ length: size }, (_, index) => {
    const [org, sector] = pick(ORGS);
    const indicators = POOL.filter(() => next() < 0.5).map(d);
    return {
      id: index + 1,
      org,
      sector,
      tlp: pick(TLPS),
      category: 'malware',
      // Within a day, or weeks apart: some pairs fall outside the window.
      at: Math.floor(next() * (next() < 0.8 ? 1440 : 40 * 1440)),
      indicators: indicators.length > 0 ? indicators : [d('c2-alpha')],
    };
  });
}

/**
 * Histories in which every campaign pair is keyed by its smallest shared
 * indicator within the alert: no two reports share an indicator smaller than
 * the key they are filed under elsewhere (finding 2, which the record alone
 * cannot settle). Shared-indicator alerts and surges are compared in full.
 */
function withoutFinding2(reports: readonly Report[]): boolean {
  const alerts = correlate(reports);
  const keysOf = new Map(
    reports.map((r) => [reportId(r.id), new Set(r.indicators.map(([t, v]) => `${t}:${v}`))]),
  );
  for (const record of alerts.values()) {
    if (record.kind !== 'campaign') continue;
    const anchor = record.indicators.map((i) => `${i.type}:${i.value}`).sort()[0]!;
    for (const a of record.contributions) {
      for (const b of record.contributions) {
        if (a.organisationId === b.organisationId) continue;
        const shared = [...keysOf.get(a.reportId)!].filter((k) => keysOf.get(b.reportId)!.has(k)).sort();
        const listed = a.indicators.filter((i) => b.indicators.some((j) => j.value === i.value));
        if (listed.length >= 2 && shared.length >= 2 && shared[0]! < anchor) return false;
      }
    }
  }
  return true;
}

describe('random histories: every viewer’s view is the same without the reports it may not know of', () => {
  const seeds = Array.from({ length: 150 }, (_, index) => index + 1);
  it.each(seeds)('seed %i', (seed) => {
    const reports = history(seed, 3 + (seed % 8));
    // Campaigns are compared only where finding 2 cannot arise; the other kinds always.
    const campaigns = process.env.NO_F2_FILTER !== undefined || withoutFinding2(reports);
    for (const [org] of ORGS) {
      const { whole, without, kinds } = compare(org, reports);
      const compared = (entries: typeof whole) =>
        entries.filter(([id]) => campaigns || kinds.get(id) !== 'campaign');
      expect(compared(whole), `viewer ${org}`).toEqual(compared(without));
    }
  });

  it('meets enough histories free of finding 2 to mean something', () => {
    const usable = seeds.filter((seed) => withoutFinding2(history(seed, 3 + (seed % 8))));
    expect(usable.length).toBeGreaterThan(seeds.length / 2);
  });
});
