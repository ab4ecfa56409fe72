import type { Bilingual, ExpectationOutcome, Sector } from '@renkei/schema';
import { scenarioTime, type RunClock } from './clock.js';

type Status = ExpectationOutcome['status'];
type Counts = Record<Status, number>;

export interface RunSummary {
  runId: string;
  startedAt: string | null;
  speed: number;
  /** Median scenario time to acknowledge a warning, over every acknowledgement that came. */
  medianAckMs: number | null;
  expectations: Counts & { total: number };
}

export interface AfterActionReport {
  run: {
    id: string;
    scenario: { id: string; version: number; title: Bilingual };
    state: string;
    speed: number;
    startedAt: string | null;
    endedAt: string | null;
  };
  acknowledgement: {
    medianMs: number | null;
    bySector: {
      sector: Sector;
      expected: number;
      acknowledged: number;
      medianMs: number | null;
      valuesMs: number[];
    }[];
    byOrganisation: {
      organisationId: string;
      sector: Sector;
      expected: number;
      acknowledged: number;
      medianMs: number | null;
      valuesMs: number[];
    }[];
  };
  expectations: Counts & { total: number; byKind: Record<ExpectationOutcome['kind'], Counts> };
  outcomes: ExpectationOutcome[];
  /** What moved per slice of scenario time. */
  flow: ({ fromMs: number } & Record<FlowKind, number>)[];
  /**
   * Each thing that moved, at its scenario time, oldest first (at most
   * {@link TIMELINE_LIMIT}; the flow counts them all). Absent from reports
   * archived before it was added.
   */
  timeline?: { kind: FlowKind; atMs: number }[];
  /** This run and the earlier runs of the same scenario, oldest first. */
  comparison: RunSummary[];
}

/** What flows through a run, in the order the page draws it. */
export const FLOW_KINDS = ['injects', 'reports', 'alerts', 'warnings', 'acknowledgements', 'triage'] as const;
export type FlowKind = (typeof FLOW_KINDS)[number];

/** A timeline longer than this is cut (the flow still counts everything): a page, not a log. */
export const TIMELINE_LIMIT = 2_000;

export interface AfterActionInput {
  run: AfterActionReport['run'];
  clock: RunClock;
  outcomes: readonly ExpectationOutcome[];
  sectorOf: (organisationId: string) => Sector | undefined;
  /** Real times (ms) of what flowed during the run. */
  events: {
    injects: readonly number[];
    reports: readonly number[];
    warnings: readonly number[];
    acknowledgements: readonly number[];
    triage: readonly number[];
    /** Alerts raised from the run's reports, when first raised. */
    alerts?: readonly number[];
  };
  earlierRuns: readonly RunSummary[];
  now: number;
}

const zero = (): Counts => ({ met: 0, late: 0, missed: 0, pending: 0 });

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

/** The figures of one run: a function of what was stored, so asking twice gives the same report. */
export function afterActionReport(input: AfterActionInput): AfterActionReport {
  const { outcomes } = input;
  const acks = outcomes.filter((outcome) => outcome.kind === 'acknowledge');
  const taken = (list: readonly ExpectationOutcome[]) =>
    list.flatMap((outcome) => (outcome.takenMs === null ? [] : [outcome.takenMs]));

  const byOrganisation = [...groupBy(acks, (outcome) => outcome.participant)].map(
    ([organisationId, list]) => ({
      organisationId,
      sector: input.sectorOf(organisationId) ?? ('other' as Sector),
      expected: list.length,
      acknowledged: taken(list).length,
      medianMs: median(taken(list)),
      valuesMs: taken(list).sort((a, b) => a - b),
    }),
  );
  byOrganisation.sort(
    (a, b) => a.sector.localeCompare(b.sector) || a.organisationId.localeCompare(b.organisationId),
  );
  const bySector = [...groupBy(byOrganisation, (row) => row.sector)].map(([sector, rows]) => {
    const values = rows.flatMap((row) => row.valuesMs).sort((a, b) => a - b);
    return {
      sector,
      expected: rows.reduce((sum, row) => sum + row.expected, 0),
      acknowledged: values.length,
      medianMs: median(values),
      valuesMs: values,
    };
  });

  const counts = zero();
  const byKind = {
    acknowledge: zero(),
    'publish-warning': zero(),
    report: zero(),
    triage: zero(),
  } satisfies Record<ExpectationOutcome['kind'], Counts>;
  for (const outcome of outcomes) {
    counts[outcome.status] += 1;
    byKind[outcome.kind][outcome.status] += 1;
  }

  const medianAckMs = median(taken(acks));
  const summary: RunSummary = {
    runId: input.run.id,
    startedAt: input.run.startedAt,
    speed: input.run.speed,
    medianAckMs,
    expectations: { ...counts, total: outcomes.length },
  };
  return {
    run: input.run,
    acknowledgement: { medianMs: medianAckMs, bySector, byOrganisation },
    expectations: { ...counts, total: outcomes.length, byKind },
    outcomes: [...outcomes],
    flow: flowOf(input),
    timeline: timelineOf(input),
    comparison: [...input.earlierRuns.filter((run) => run.runId !== input.run.id), summary],
  };
}

/** The summary kept with a finished run, for later runs of its scenario to compare with. */
export function summaryOf(report: AfterActionReport): RunSummary {
  return report.comparison.at(-1)!;
}

/** Events per slice of scenario time: twelve slices of whole minutes over the run so far. */
function flowOf(input: AfterActionInput): AfterActionReport['flow'] {
  const at = (real: number) => scenarioTime(input.clock, real);
  const all = Object.values(input.events).flat().map(at);
  const span = Math.max(scenarioTime(input.clock, input.now), ...all, 1);
  const slice = Math.max(60_000, Math.ceil(span / 12 / 60_000) * 60_000);
  const slices = Math.max(1, Math.ceil((span + 1) / slice));
  const flow = Array.from({ length: slices }, (_, index) => ({
    fromMs: index * slice,
    ...(Object.fromEntries(FLOW_KINDS.map((kind) => [kind, 0])) as Record<FlowKind, number>),
  }));
  for (const kind of FLOW_KINDS) {
    for (const time of input.events[kind] ?? [])
      flow[Math.min(slices - 1, Math.floor(at(time) / slice))]![kind] += 1;
  }
  return flow;
}

function timelineOf(input: AfterActionInput): NonNullable<AfterActionReport['timeline']> {
  return FLOW_KINDS.flatMap((kind) =>
    (input.events[kind] ?? []).map((time) => ({ kind, atMs: Math.round(scenarioTime(input.clock, time)) })),
  )
    .sort((a, b) => a.atMs - b.atMs || FLOW_KINDS.indexOf(a.kind) - FLOW_KINDS.indexOf(b.kind))
    .slice(0, TIMELINE_LIMIT);
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const list = groups.get(key(item)) ?? [];
    list.push(item);
    groups.set(key(item), list);
  }
  return groups;
}
