import { indicatorKey } from '@renkei/indicators';
import {
  ALERT_RECORD_SCHEMA,
  decodeAlertPairs,
  encodeAlertPairs,
  SEVERITIES,
  type AlertContribution,
  type AlertIndicator,
  type AlertKind,
  type AlertRecord,
  type ReportCategory,
  type Sector,
  type Severity,
} from '@renkei/schema';
import { alertIdFor, correlationKeys } from './keys.js';
import { highestSeverity, mostRestrictiveTlp } from './order.js';
import type { CorrelationSettings } from './settings.js';
import type { ReportFacts } from './state.js';

/** What an alert is about: enough to name it and to word its reasons. */
export type AlertSubject =
  | { kind: 'shared-indicator'; indicator: AlertIndicator }
  | { kind: 'campaign'; anchorKey: string }
  | { kind: 'sector-surge'; sector: Sector; category: ReportCategory; day: string }
  | { kind: 'watchlist-match'; entryId: string; indicator: AlertIndicator };

/** What one rule wants to add to one alert because of one report. */
export interface AlertDelta {
  correlationKey: string;
  exercise: boolean;
  subject: AlertSubject;
  /** Reports to include, each with the canonical indicators that put it there (merged into what it has). */
  contributions: Map<string, { report: ReportFacts; indicators: AlertIndicator[] }>;
  /** For a campaign: the pairs of reports (by id) this delta files under it. */
  pairs: [string, string][];
  /** The indicator passed the over-correlation cap: mark the alert and stop. */
  tooCommon: boolean;
  /** The report that caused the change, for the time of a too-common version. */
  causedBy: ReportFacts;
}

export interface AlertWrite {
  correlationKey: string;
  record: AlertRecord;
  /** The report whose processing (or, for a watchlist entry's earlier matches, the latest report) caused it. */
  causedByReportId: string;
}

/**
 * The versions a delta gives: none (nothing new, or the alert is already
 * too common), one, or two (an alert born too common is written first with
 * its reports, then marked). Contributions only ever grow and each field is
 * computed from them, so the final record depends on which reports joined,
 * not on the order they came in.
 *
 * `amend`: the previous version was written by the same transaction, so no
 * reader has seen it; new contributions join that version instead of making
 * another. A burst then costs one version per alert and transaction, not one
 * per report: a surge of 500 reports would otherwise write (and publish) 500
 * ever larger records.
 */
export function applyDelta(
  previous: AlertRecord | undefined,
  delta: AlertDelta,
  settings: CorrelationSettings,
  { amend = false }: { amend?: boolean } = {},
): AlertWrite[] {
  if (previous?.tooCommon) return [];
  const writes: AlertWrite[] = [];
  let current = previous;
  let saturated = false;

  if (!(delta.tooCommon && previous)) {
    const amending = amend && previous !== undefined && previous.history.at(-1)?.change === 'contribution';
    const version = amending ? previous.version : (previous?.version ?? 0) + 1;
    const earlier = amending ? previous.history.slice(0, -1) : (previous?.history ?? []);
    const byReport = new Map((previous?.contributions ?? []).map((c) => [c.reportId, c]));
    let changed = false;
    // Sorted so that which reports fit under the size bound does not depend on Map order.
    const additions = [...delta.contributions.values()].sort((a, b) => compareReports(a.report, b.report));
    for (const { report, indicators } of additions) {
      const existing = byReport.get(report.reportId);
      if (existing) {
        // Already listed as it would merge (the usual case: every report re-includes its partners).
        if (indicators.every((indicator) => listed(existing.indicators, indicator))) continue;
        const merged = mergeIndicators(existing.indicators, indicators, settings.maxListedIndicators);
        if (signature(merged) !== signature(existing.indicators)) {
          byReport.set(report.reportId, { ...existing, indicators: merged });
          changed = true;
        }
        continue;
      }
      if (byReport.size >= settings.maxContributions) {
        saturated = true;
        continue;
      }
      byReport.set(report.reportId, {
        reportId: report.reportId,
        organisationId: report.organisationId,
        sector: report.sector,
        tlp: report.tlp,
        severity: report.severity,
        category: report.category,
        detectedAt: report.detectedAt,
        receivedAt: report.receivedAt,
        indicators: mergeIndicators([], indicators, settings.maxListedIndicators),
        addedInVersion: version,
      });
      changed = true;
    }
    const contributions = [...byReport.values()].sort(compareContributions);
    const pairs = pairsAfter(previous, delta, contributions);
    if (pairs !== previous?.pairs) changed = true;
    if (changed) {
      // The newest report it holds: a function of the contributions, so the final time is too.
      const at = latest([previous?.updatedAt, ...contributions.map((c) => c.receivedAt)]);
      current = record(
        { history: earlier, createdAt: previous?.createdAt },
        delta,
        contributions,
        pairs,
        false,
        version,
        at,
        'contribution',
        settings,
      );
      writes.push({
        correlationKey: delta.correlationKey,
        record: current,
        causedByReportId: delta.causedBy.reportId,
      });
    }
  }

  if (current && (delta.tooCommon || saturated)) {
    const version = current.version + 1;
    const at = latest([current.updatedAt, delta.causedBy.receivedAt]);
    current = record(
      current,
      delta,
      current.contributions,
      current.pairs,
      true,
      version,
      at,
      'too-common',
      settings,
    );
    writes.push({
      correlationKey: delta.correlationKey,
      record: current,
      causedByReportId: delta.causedBy.reportId,
    });
  }
  return writes;
}

/**
 * A campaign's pairs after the delta, stored against the new contributions:
 * the previous version's and the delta's whose two reports the alert holds
 * (a report left out at the size bound takes its pairs with it). The same
 * string as before when nothing was added.
 */
function pairsAfter(
  previous: AlertRecord | undefined,
  delta: AlertDelta,
  contributions: readonly AlertContribution[],
): string | undefined {
  // A campaign written before pairs were kept stays without: its old pairs are not known.
  if (delta.subject.kind !== 'campaign' || (previous && previous.pairs === undefined)) return undefined;
  const index = new Map(contributions.map((c, i) => [c.reportId, i]));
  const pairs: [number, number][] = [];
  if (previous?.pairs) {
    const before = previous.contributions.map((c) => index.get(c.reportId)!);
    for (const [i, j] of decodeAlertPairs(previous.contributions.length, previous.pairs))
      pairs.push([before[i]!, before[j]!]);
  }
  for (const [a, b] of delta.pairs) {
    const i = index.get(a);
    const j = index.get(b);
    if (i !== undefined && j !== undefined) pairs.push([i, j]);
  }
  const encoded = encodeAlertPairs(contributions.length, pairs);
  return encoded === previous?.pairs ? previous.pairs : encoded;
}

/**
 * A version's record. What it says (title, reasons, severity, TLP and the
 * rest of `describeAlert`) follows from its contributions alone, and is
 * worked out when first read, then kept: in a chunk every report joining an
 * alert makes a record, but only the last of each version is written, so the
 * words of the others are never needed. In a surge that was one
 * `describeAlert` over a growing list per report; now it is one per version
 * written. The getters are enumerable, so the record serialises and compares
 * like a plain object.
 */
function record(
  previous: Pick<AlertRecord, 'history'> & { createdAt: string | undefined },
  delta: AlertDelta,
  contributions: AlertContribution[],
  pairs: AlertRecord['pairs'],
  tooCommon: boolean,
  version: number,
  at: string,
  change: 'contribution' | 'too-common',
  settings: CorrelationSettings,
): AlertRecord {
  // Only what the words need is kept (not the delta and its reports): cached records live on.
  const { subject, exercise } = delta;
  let described: AlertWords | undefined;
  const words = () =>
    (described ??= describeAlert(subject, contributions, { exercise, tooCommon }, settings));
  let tlp: AlertRecord['tlp'] | undefined;
  // The same keys in the same order as before: the record's JSON does not change.
  return {
    schema: ALERT_RECORD_SCHEMA,
    id: alertIdFor(delta.correlationKey),
    version,
    kind: delta.subject.kind,
    get severity() {
      return words().severity;
    },
    get tlp() {
      return (tlp ??= mostRestrictiveTlp(contributions.map((c) => c.tlp)));
    },
    get title() {
      return words().title;
    },
    get reasons() {
      return words().reasons;
    },
    get indicators() {
      return words().indicators;
    },
    get sectors() {
      return words().sectors;
    },
    get organisationCount() {
      return words().organisationCount;
    },
    contributions,
    ...(pairs ? { pairs } : {}),
    get relatedAlertIds() {
      return words().relatedAlertIds;
    },
    tooCommon,
    watchlistEntryId: delta.subject.kind === 'watchlist-match' ? delta.subject.entryId : null,
    history: [...previous.history, { version, at, change }],
    createdAt: previous.createdAt ?? at,
    updatedAt: at,
    exercise: delta.exercise,
  };
}

export interface AlertWords {
  title: string;
  reasons: string[];
  severity: Severity;
  indicators: AlertIndicator[];
  sectors: Sector[];
  organisationCount: number;
  relatedAlertIds: string[];
}

/**
 * Everything an alert says that follows from its contributions. Exported so
 * the policy can word a viewer's view from only the contributions that viewer
 * may know of.
 */
export function describeAlert(
  subject: AlertSubject,
  contributions: readonly Pick<
    AlertContribution,
    'organisationId' | 'sector' | 'severity' | 'category' | 'detectedAt' | 'indicators'
  >[],
  { exercise, tooCommon }: { exercise: boolean; tooCommon: boolean },
  settings: CorrelationSettings,
): AlertWords {
  const organisationCount = new Set(contributions.map((c) => c.organisationId)).size;
  const sectors = [...new Set(contributions.map((c) => c.sector))].sort();
  const spread = `${plural(organisationCount, 'organisation')} in ${plural(sectors.length, 'sector')} (${sectors.join(', ')})`;
  const detected = contributions.map((c) => Date.parse(c.detectedAt));
  const period =
    detected.length === 0
      ? ''
      : `detected between ${minute(Math.min(...detected))} and ${minute(Math.max(...detected))}`;
  const windowDays = `${+(settings.windowMs / 86_400_000).toFixed(2)} days`;
  const prefix = exercise ? '[EXERCISE] ' : '';
  const reported = highestSeverity(contributions.map((c) => c.severity));
  const capped = tooCommon
    ? [
        `too common to correlate: more than ${settings.tooCommonOrganisations} organisations or ${settings.maxContributions} reports within ${windowDays}; no further versions`,
      ]
    : [];

  switch (subject.kind) {
    case 'shared-indicator': {
      const described = describeIndicator(subject.indicator);
      const derived = contributions.every((c) => c.indicators.every((i) => i.derived));
      return {
        title: `${prefix}${described} reported by ${plural(organisationCount, 'organisation')} in ${plural(sectors.length, 'sector')}`,
        reasons: [
          `${spread} reported ${described}`,
          `${period}, each within ${windowDays} of a report from another organisation`,
          ...(derived ? [`seen as the host of reported URLs`] : []),
          ...capped,
        ],
        severity: atLeast(reported, spreadSeverity(organisationCount, sectors.length)),
        indicators: [derived ? { ...subject.indicator, derived: true } : subject.indicator],
        sectors,
        organisationCount,
        relatedAlertIds: [],
      };
    }
    case 'campaign': {
      const byKey = new Map<string, AlertIndicator>();
      for (const contribution of contributions) {
        for (const indicator of contribution.indicators) {
          byKey.set(indicatorKey(indicator), { type: indicator.type, value: indicator.value });
        }
      }
      const listed = [...byKey.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .slice(0, settings.maxListedIndicators);
      const indicators = listed.map(([, indicator]) => indicator);
      const count =
        indicators.length >= settings.maxListedIndicators
          ? `at least ${indicators.length} indicators`
          : plural(indicators.length, 'indicator');
      return {
        title: `${prefix}Campaign: ${plural(organisationCount, 'organisation')} in ${plural(sectors.length, 'sector')} share ${count}`,
        reasons: [
          `${spread} sent reports that share ${settings.campaignMinIndicators} or more indicators with a report of another organisation`,
          `${period}, each within ${windowDays} of the report it shares them with`,
          `shared: ${indicators.map(describeIndicator).join(', ')}`,
          ...capped,
        ],
        severity: atLeast(reported, atLeast(spreadSeverity(organisationCount, sectors.length), 'high')),
        indicators,
        sectors,
        organisationCount,
        relatedAlertIds: indicators
          .map((indicator) => alertIdFor(correlationKeys.sharedIndicator(exercise, indicator)))
          .sort(),
      };
    }
    case 'sector-surge': {
      const periodMinutes = Math.round(settings.surgePeriodMs / 60_000);
      return {
        title: `${prefix}Surge: ${plural(contributions.length, `${subject.category} report`)} from ${subject.sector} on ${subject.day}`,
        reasons: [
          `${plural(contributions.length, `${subject.category} report`)} from ${plural(organisationCount, 'organisation')} in ${subject.sector}, each among ${settings.surgeReports} or more detected within ${periodMinutes} minutes`,
          period,
          ...capped,
        ],
        severity: atLeast(reported, contributions.length >= 2 * settings.surgeReports ? 'high' : 'medium'),
        indicators: [],
        sectors,
        organisationCount,
        relatedAlertIds: [],
      };
    }
    case 'watchlist-match': {
      const described = describeIndicator(subject.indicator);
      return {
        title: `${prefix}Watchlist: ${described} in ${plural(contributions.length, 'report')} from ${plural(organisationCount, 'organisation')}`,
        reasons: [`${described} is on the GSOC watchlist`, `${spread} reported it`, period, ...capped],
        severity: atLeast(reported, 'high'),
        indicators: [subject.indicator],
        sectors,
        organisationCount,
        relatedAlertIds: [],
      };
    }
  }
}

/** More organisations and sectors make a shared indicator more serious. */
export function spreadSeverity(organisations: number, sectors: number): Severity {
  if (organisations >= 5 || sectors >= 3) return 'critical';
  if (organisations >= 3 || sectors >= 2) return 'high';
  return 'medium';
}

function atLeast(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b;
}

function describeIndicator(indicator: AlertIndicator): string {
  return `${indicator.type} ${indicator.value}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function minute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function latest(times: readonly (string | undefined)[]): string {
  let best: string | undefined;
  for (const time of times) if (time && (!best || compareTimes(time, best) > 0)) best = time;
  return best!;
}

/** Canonical order, the smallest first, at most `limit`: the same list whatever order they were merged in. */
function mergeIndicators(
  existing: readonly AlertIndicator[],
  added: readonly AlertIndicator[],
  limit: number,
): AlertIndicator[] {
  const byKey = new Map<string, AlertIndicator>();
  for (const indicator of [...existing, ...added]) {
    const key = indicatorKey(indicator);
    const known = byKey.get(key);
    // Written by the reporter wins over derived: the flag means "only derived".
    if (!known || (known.derived && !indicator.derived)) byKey.set(key, indicator);
  }
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .slice(0, limit)
    .map(([, indicator]) => indicator);
}

/**
 * Whether merging `indicator` into `indicators` (a list `mergeIndicators` made)
 * would leave it unchanged: the value is there, and not only as derived when
 * the reporter wrote it.
 */
function listed(indicators: readonly AlertIndicator[], indicator: AlertIndicator): boolean {
  return indicators.some(
    (known) =>
      known.type === indicator.type &&
      known.value === indicator.value &&
      (!known.derived || indicator.derived === true),
  );
}

function signature(indicators: readonly AlertIndicator[]): string {
  return indicators.map((i) => `${indicatorKey(i)}${i.derived ? '~' : ''}`).join('\n');
}

export function compareReports(a: Pick<ReportFacts, 'detectedAt' | 'reportId'>, b: typeof a): number {
  const byTime = compareTimes(a.detectedAt, b.detectedAt);
  if (byTime !== 0) return byTime;
  return a.reportId < b.reportId ? -1 : a.reportId > b.reportId ? 1 : 0;
}

/**
 * Two times in `toISOString` form (how the hub writes and reads every time)
 * compare as strings, which is several times cheaper than parsing them; the
 * rules sort a thousand reports per report in a surge. Anything else is parsed.
 */
function compareTimes(a: string, b: string): number {
  if (a.length === 24 && b.length === 24 && a.endsWith('Z') && b.endsWith('Z')) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return Date.parse(a) - Date.parse(b);
}

function compareContributions(a: AlertContribution, b: AlertContribution): number {
  return compareReports(a, b);
}

export type { AlertKind };
