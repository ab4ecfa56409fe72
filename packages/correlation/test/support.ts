import { readIndicators, type IndicatorType } from '@renkei/indicators';
import {
  alertRecordSchema,
  type AlertRecord,
  type ReportCategory,
  type Sector,
  type Severity,
  type Tlp,
} from '@renkei/schema';
import {
  DEFAULT_CORRELATION_SETTINGS,
  MemoryCorrelationState,
  type CorrelationSettings,
  type IncomingReport,
  type ReportFacts,
} from '@renkei/correlation';

export const MINUTE = 60_000;
export const DAY = 86_400_000;
export const BASE = Date.parse('2026-11-01T00:00:00.000Z');

export function reportId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

let counter = 0;

export interface ReportOptions {
  sector?: Sector;
  category?: ReportCategory;
  severity?: Severity;
  tlp?: Tlp;
  /** Detection time as milliseconds after BASE. */
  at?: number;
  exercise?: boolean;
  id?: number;
}

export function facts(organisationId: string, options: ReportOptions = {}): ReportFacts {
  const n = options.id ?? (counter += 1);
  const detected = BASE + (options.at ?? 0);
  return {
    reportId: reportId(n),
    organisationId,
    sector: options.sector ?? 'finance',
    tlp: options.tlp ?? 'GREEN',
    severity: options.severity ?? 'low',
    category: options.category ?? 'malware',
    detectedAt: new Date(detected).toISOString(),
    // Received a little after detection, later for later reports.
    receivedAt: new Date(detected + 5 * MINUTE + n).toISOString(),
    exercise: options.exercise ?? false,
  };
}

/** What the correlator hands the rules: the report and its unsuppressed observables. */
export function incoming(
  report: ReportFacts,
  indicators: readonly (readonly [IndicatorType, string])[],
  suppressed: ReadonlySet<string> = new Set(),
): IncomingReport {
  const { observables } = readIndicators(indicators.map(([type, value]) => ({ type, value })));
  return {
    report,
    sightings: observables
      .filter((o) => !suppressed.has(o.key))
      .map((o) => ({ key: o.key, indicator: o.indicator, report, written: o.written, hostOf: o.hostOf })),
  };
}

export function hub(overrides: Partial<CorrelationSettings> = {}): MemoryCorrelationState {
  return new MemoryCorrelationState({ ...DEFAULT_CORRELATION_SETTINGS, ...overrides });
}

/** Every alert, each checked against the record schema. */
export function alertsOf(state: MemoryCorrelationState, kind?: AlertRecord['kind']): AlertRecord[] {
  return [...state.alerts.values()]
    .map((record) => alertRecordSchema.parse(record))
    .filter((record) => !kind || record.kind === kind);
}

/** A seeded generator, so a failing order can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
