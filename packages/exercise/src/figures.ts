import type { ExpectationOutcome } from '@renkei/schema';
import { FLOW_KINDS, type AfterActionReport, type FlowKind } from './after-action.js';

/** One row of the time-to-acknowledge plot: every value, its quartiles and its median. */
export interface Distribution {
  label: string;
  /** The sector of an organisation's row (the sector's own row repeats its label). */
  sector: string;
  expected: number;
  acknowledged: number;
  valuesMs: number[];
  /** Null when nobody acknowledged. */
  box: { min: number; q1: number; median: number; q3: number; max: number } | null;
}

export interface ReportFigures {
  acknowledgement: {
    bySector: Distribution[];
    byOrganisation: Distribution[];
    /** The axis of both plots: from 0 to this, a whole number of ticks. */
    axis: Axis;
  };
  /** Met, late, missed, pending: over all, then per kind of expectation (kinds that had none left out). */
  expectations: {
    all: Shares;
    byKind: { kind: ExpectationOutcome['kind']; shares: Shares }[];
  };
  /** Each kind's events at their scenario time, on one axis. */
  timeline: { axis: Axis; lanes: { kind: FlowKind; timesMs: number[] }[] };
  /** This run and earlier ones of the scenario, oldest first. */
  comparison: {
    runId: string;
    startedAt: string | null;
    speed: number;
    medianAckMs: number | null;
    /** Met over all expectations, 0–1; null when the run had none. */
    metShare: number | null;
    met: number;
    late: number;
    missed: number;
    total: number;
    current: boolean;
  }[];
}

export interface Axis {
  maxMs: number;
  tickMs: number;
}

export type Shares = Record<ExpectationOutcome['status'], { count: number; share: number }> & {
  total: number;
};

const STATUSES = ['met', 'late', 'missed', 'pending'] as const;

/**
 * The figures the printable page draws, from the report alone: pure, so what
 * a chart shows is tested without drawing it, and an archived report draws
 * the same page years later.
 */
export function reportFigures(report: AfterActionReport): ReportFigures {
  const bySector = report.acknowledgement.bySector.map((row) =>
    distribution(row.sector, row.sector, row.expected, row.valuesMs),
  );
  const byOrganisation = report.acknowledgement.byOrganisation.map((row) =>
    distribution(row.organisationId, row.sector, row.expected, row.valuesMs),
  );
  const longest = Math.max(
    0,
    ...byOrganisation.flatMap((row) => row.valuesMs),
    ...bySector.flatMap((row) => row.valuesMs),
  );

  const byKind = (['acknowledge', 'publish-warning', 'report', 'triage'] as const)
    .map((kind) => ({ kind, shares: shares(report.expectations.byKind[kind]) }))
    .filter((row) => row.shares.total > 0);

  const timeline = report.timeline ?? [];
  const lastFlow = report.flow.at(-1);
  const flowSpan = lastFlow ? lastFlow.fromMs + (report.flow[1]?.fromMs ?? 60_000) : 0;
  const span = Math.max(flowSpan, ...timeline.map((event) => event.atMs), 60_000);

  return {
    acknowledgement: { bySector, byOrganisation, axis: axisFor(longest) },
    expectations: { all: shares(report.expectations), byKind },
    timeline: {
      axis: axisFor(span),
      lanes: FLOW_KINDS.map((kind) => ({
        kind,
        timesMs: timeline.filter((event) => event.kind === kind).map((event) => event.atMs),
      })),
    },
    comparison: report.comparison.map((run) => ({
      runId: run.runId,
      startedAt: run.startedAt,
      speed: run.speed,
      medianAckMs: run.medianAckMs,
      metShare: run.expectations.total === 0 ? null : run.expectations.met / run.expectations.total,
      met: run.expectations.met,
      late: run.expectations.late,
      missed: run.expectations.missed,
      total: run.expectations.total,
      current: run.runId === report.run.id,
    })),
  };
}

function distribution(
  label: string,
  sector: string,
  expected: number,
  values: readonly number[],
): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    label,
    sector,
    expected,
    acknowledged: sorted.length,
    valuesMs: sorted,
    box:
      sorted.length === 0
        ? null
        : {
            min: sorted[0]!,
            q1: quantile(sorted, 0.25),
            median: quantile(sorted, 0.5),
            q3: quantile(sorted, 0.75),
            max: sorted.at(-1)!,
          },
  };
}

/** Linear interpolation between the closest ranks, rounded to the millisecond; the median of two is their mean. */
export function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return Math.round(sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below));
}

function shares(counts: Record<ExpectationOutcome['status'], number>): Shares {
  const total = STATUSES.reduce((sum, status) => sum + counts[status], 0);
  return {
    total,
    ...(Object.fromEntries(
      STATUSES.map((status) => [
        status,
        { count: counts[status], share: total === 0 ? 0 : counts[status] / total },
      ]),
    ) as Record<ExpectationOutcome['status'], { count: number; share: number }>),
  };
}

const MINUTE = 60_000;
const TICKS = [1, 2, 5, 10, 15, 30, 60, 120, 240, 360, 720, 1440].map((minutes) => minutes * MINUTE);

/** An axis from 0 past `longest` in at most eight ticks of a round number of minutes. */
export function axisFor(longest: number): Axis {
  const tickMs =
    TICKS.find((tick) => longest / tick <= 8) ?? Math.ceil(longest / 8 / (1440 * MINUTE)) * 1440 * MINUTE;
  return { maxMs: Math.max(tickMs, Math.ceil(longest / tickMs) * tickMs), tickMs };
}
