import { canonicalIndicator, indicatorKey, INDICATOR_TYPES, type IndicatorType } from '@renkei/indicators';
import {
  durationMs,
  type ExerciseExpectation,
  type ExerciseScenario,
  type ExpectationOutcome,
  type Sector,
  type WarningSectors,
} from '@renkei/schema';
import { realTimeOf, scenarioTime, type RunClock } from './clock.js';

/** What happened in a run, as the hub stored it (real times in ms). */
export interface RunFacts {
  clock: RunClock;
  /** The GSOC organisation: who publishes warnings and triages, for scoring. */
  gsoc: string;
  participants: readonly string[];
  injects: Readonly<
    Record<
      string,
      {
        sentAt: number | null;
        /** A warning inject: the organisations it reached when sent. */
        recipients?: readonly string[];
        warningId?: string | null;
        /** A report inject: the alerts its report is part of, and when the first was raised (null until one is). */
        alertIds?: readonly string[];
        alertAt?: number | null;
      }
    >
  >;
  acknowledgements: readonly { warningId: string; organisationId: string; at: number }[];
  /** Exercise warnings the GSOC published during the run (not the injected ones). */
  warnings: readonly { id: string; sectors: WarningSectors; at: number }[];
  /** Exercise reports participants submitted during the run (not the injected ones). */
  reports: readonly {
    organisationId: string;
    indicators: readonly { type: string; value: string }[];
    at: number;
  }[];
  /** Triage actions on alerts. */
  triage: readonly { alertId: string; at: number }[];
}

/**
 * Scores every expectation for every participant it concerns at real time
 * `now`: `met` when the response came within the deadline (scenario time from
 * what it follows), `late` when after it, `missed` when none came and the
 * deadline has passed or the run is over, `pending` otherwise. An expectation
 * that follows another starts when that one was met by everyone it concerned
 * (the last of them); if that one is missed or late for someone, so is the
 * start never, and it is missed once the run is over.
 */
export function evaluateExpectations(
  scenario: ExerciseScenario,
  facts: RunFacts,
  now: number,
): ExpectationOutcome[] {
  const byId = new Map(scenario.expectations.map((expectation) => [expectation.id, expectation]));
  const done = new Map<string, ExpectationOutcome[]>();
  const over = facts.clock.endedAt !== null;
  const elapsed = scenarioTime(facts.clock, now);

  const anchorOf = (after: string): number | null => {
    const expectation = byId.get(after);
    if (!expectation) {
      const sentAt = facts.injects[after]?.sentAt ?? null;
      return sentAt !== null && sentAt <= now ? sentAt : null;
    }
    const outcomes = outcomesOf(expectation);
    if (outcomes.length === 0 || outcomes.some((outcome) => outcome.status !== 'met')) return null;
    return Math.max(...outcomes.map((outcome) => Date.parse(outcome.respondedAt!)));
  };

  function outcomesOf(expectation: ExerciseExpectation): ExpectationOutcome[] {
    const cached = done.get(expectation.id);
    if (cached) return cached;
    // A cycle cannot pass the scenario check; guard anyway so a bad row cannot loop.
    done.set(expectation.id, []);
    const anchor = anchorOf(expectation.after);
    const within = durationMs(expectation.within);
    const outcomes = concerned(expectation).map((participant): ExpectationOutcome => {
      const base = { expectation: expectation.id, kind: expectation.kind, participant };
      if (anchor === null) {
        return {
          ...base,
          status: over ? 'missed' : 'pending',
          takenMs: null,
          dueAt: null,
          respondedAt: null,
        };
      }
      const start = scenarioTime(facts.clock, anchor);
      const due = realTimeOf(facts.clock, start + within, now);
      const dueAt = due === null ? null : new Date(due).toISOString();
      const response = responseOf(expectation, participant, anchor);
      if (response !== null) {
        const taken = Math.max(0, Math.round(scenarioTime(facts.clock, response) - start));
        return {
          ...base,
          status: taken <= within ? 'met' : 'late',
          takenMs: taken,
          dueAt,
          respondedAt: new Date(response).toISOString(),
        };
      }
      const missed = over || elapsed - start > within;
      return { ...base, status: missed ? 'missed' : 'pending', takenMs: null, dueAt, respondedAt: null };
    });
    done.set(expectation.id, outcomes);
    return outcomes;
  }

  function concerned(expectation: ExerciseExpectation): string[] {
    switch (expectation.kind) {
      case 'acknowledge': {
        const recipients = facts.injects[expectation.after]?.recipients;
        // Before the warning goes out, every participant it will reach is waited for.
        return [...(recipients ?? facts.participants)].filter((id) => id !== facts.gsoc).sort();
      }
      case 'report':
        return [expectation.participant];
      case 'publish-warning':
      case 'triage':
        return [facts.gsoc];
    }
  }

  /** The first response at or after the anchor, in real time; null when there is none. */
  function responseOf(expectation: ExerciseExpectation, participant: string, anchor: number): number | null {
    const first = (times: number[]) => {
      // What is stored past `now` has not happened yet as of `now` (a report asked of an earlier moment).
      const after = times.filter((at) => at >= anchor && at <= now);
      return after.length === 0 ? null : Math.min(...after);
    };
    switch (expectation.kind) {
      case 'acknowledge': {
        const warningId = facts.injects[expectation.after]?.warningId;
        return first(
          facts.acknowledgements
            .filter((ack) => ack.warningId === warningId && ack.organisationId === participant)
            .map((ack) => ack.at),
        );
      }
      case 'publish-warning': {
        const alertAt = facts.injects[expectation.after]?.alertAt;
        if (alertAt === null || alertAt === undefined) return null;
        return first(
          facts.warnings
            .filter((warning) => warning.at >= alertAt && reaches(warning.sectors, expectation.sector))
            .map((warning) => warning.at),
        );
      }
      case 'report': {
        const wanted = keyOf(expectation.indicator);
        return first(
          facts.reports
            .filter(
              (report) =>
                report.organisationId === participant &&
                report.indicators.some((indicator) => keyOf(indicator) === wanted),
            )
            .map((report) => report.at),
        );
      }
      case 'triage': {
        // Any alert the inject's report is part of: the analyst triages what the feed showed.
        const alertIds = new Set(facts.injects[expectation.after]?.alertIds ?? []);
        return first(
          facts.triage.filter((action) => alertIds.has(action.alertId)).map((action) => action.at),
        );
      }
    }
  }

  return scenario.expectations.flatMap((expectation) => outcomesOf(expectation));
}

function reaches(sectors: WarningSectors, sector: Sector): boolean {
  return sectors === 'all' || sectors.includes(sector);
}

/** The indicator as the hub correlates it; a value that is no indicator of its type stays as written. */
function keyOf(indicator: { type: string; value: string }): string {
  const canonical = (INDICATOR_TYPES as readonly string[]).includes(indicator.type)
    ? canonicalIndicator(indicator.type as IndicatorType, indicator.value)
    : undefined;
  return canonical?.ok ? indicatorKey(canonical.indicator) : `${indicator.type}:${indicator.value}`;
}
