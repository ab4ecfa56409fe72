import { indicatorKey } from '@renkei/indicators';
import type { AlertIndicator } from '@renkei/schema';
import { applyDelta, compareReports, type AlertDelta, type AlertSubject, type AlertWrite } from './build.js';
import { correlationKeys } from './keys.js';
import { sightingLimit, type CorrelationSettings } from './settings.js';
import type { Bounded, CorrelationState, ReportFacts, Sighting, WatchlistEntry } from './state.js';

/** A report just stored, with its canonical indicators that nothing suppresses (one per key). */
export interface IncomingReport {
  report: ReportFacts;
  sightings: readonly Sighting[];
}

export interface CorrelationOutcome {
  /** Alert versions to write, in order (an alert can get two: its reports, then too-common). */
  writes: AlertWrite[];
  /** Indicators found too common by this report, to remember even where no alert exists yet. */
  tooCommon: { key: string; exercise: boolean }[];
}

/** Far enough in the future for any detection time a report can carry. */
export const END_OF_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Runs every rule for one report against what the hub has stored near it.
 *
 * Each rule is defined on the set of stored reports, not on their order:
 * an alert holds every report that takes part in a qualifying relation
 * (a pair of organisations within the window, a surge interval, a watchlist
 * entry), and a new report can only add relations that include itself, all
 * of which lie within one window of it. So reading that neighbourhood is
 * enough, and once every report is processed the alerts are the same
 * whatever order they came in — except where a cap stopped an alert, which
 * then keeps the reports that came before the cap.
 */
export function correlateReport(
  incoming: IncomingReport,
  state: CorrelationState,
  settings: CorrelationSettings,
): CorrelationOutcome {
  const { report } = incoming;
  const deltas = new Map<string, AlertDelta>();
  const tooCommon: CorrelationOutcome['tooCommon'] = [];
  const t = Date.parse(report.detectedAt);
  const nearby = new Map<string, Bounded<Sighting>>();

  for (const mine of incoming.sightings) {
    const fetched = state.sightings(
      mine.key,
      report.exercise,
      t - settings.windowMs,
      t + settings.windowMs,
      sightingLimit(settings),
    );
    const rows = uniqueByReport([...fetched.rows, mine]);
    nearby.set(mine.key, { rows, complete: fetched.complete });
    sharedIndicator(mine, { rows, complete: fetched.complete }, t);
    watchlistMatch(mine, state.watchlistEntries(mine.key));
  }
  campaign();
  sectorSurge();

  const writes: AlertWrite[] = [];
  for (const correlationKey of [...deltas.keys()].sort()) {
    writes.push(
      ...applyDelta(state.alert(correlationKey), deltas.get(correlationKey)!, settings, {
        amend: state.writtenInThisTransaction?.(correlationKey) ?? false,
      }),
    );
  }
  return { writes, tooCommon };

  function sharedIndicator(mine: Sighting, near: Bounded<Sighting>, at: number): void {
    const correlationKey = correlationKeys.sharedIndicator(report.exercise, mine.indicator);
    const previous = state.alert(correlationKey);
    if (previous?.tooCommon) return;
    const alreadyTooCommon = state.isTooCommon(mine.key, report.exercise);
    const capHit = !near.complete || overCap(near.rows, at, settings);
    if (capHit && !alreadyTooCommon) tooCommon.push({ key: mine.key, exercise: report.exercise });
    const partners = near.rows.filter((other) => correlates(mine, other));
    if (partners.length === 0 && !(capHit && previous)) return;
    const delta = deltaFor(correlationKey, { kind: 'shared-indicator', indicator: plain(mine) });
    delta.tooCommon ||= capHit || alreadyTooCommon;
    if (partners.length > 0) {
      include(delta, report, [indicatorOf(mine)]);
      for (const partner of partners) include(delta, partner.report, [indicatorOf(partner)]);
    }
  }

  function watchlistMatch(mine: Sighting, entries: readonly WatchlistEntry[]): void {
    for (const entry of entries) {
      if (!watchlistCovers(entry, report, settings)) continue;
      const delta = deltaFor(correlationKeys.watchlistMatch(report.exercise, entry.id), {
        kind: 'watchlist-match',
        entryId: entry.id,
        indicator: entry.indicator,
      });
      include(delta, report, [indicatorOf(mine)]);
    }
  }

  /**
   * Report to report: another organisation's report within the window that
   * shares enough indicators with this one. Indicators whose neighbourhood
   * was too large to read whole are left out (they are too common anyway).
   */
  function campaign(): void {
    // Most partners share one indicator with a report (the shared-indicator rule's case), so
    // shared indicators are counted first, without building anything, and only partners that
    // reach the campaign's threshold get their indicators listed: building entries for every
    // partner was most of what this rule allocated.
    const sharedCount = new Map<string, number>();
    for (const mine of incoming.sightings) {
      const near = nearby.get(mine.key)!;
      if (!near.complete) continue;
      for (const other of near.rows) {
        if (!correlates(mine, other)) continue;
        const id = other.report.reportId;
        sharedCount.set(id, (sharedCount.get(id) ?? 0) + 1);
      }
    }
    let qualifying = 0;
    for (const count of sharedCount.values()) if (count >= settings.campaignMinIndicators) qualifying += 1;
    if (qualifying === 0) return;
    const shared = new Map<
      string,
      { report: ReportFacts; mine: AlertIndicator[]; theirs: AlertIndicator[]; keys: string[] }
    >();
    for (const mine of incoming.sightings) {
      const near = nearby.get(mine.key)!;
      if (!near.complete) continue;
      for (const other of near.rows) {
        const id = other.report.reportId;
        if (sharedCount.get(id)! < settings.campaignMinIndicators || !correlates(mine, other)) continue;
        let entry = shared.get(id);
        if (!entry) {
          entry = { report: other.report, mine: [], theirs: [], keys: [] };
          shared.set(id, entry);
        }
        entry.mine.push(indicatorOf(mine));
        entry.theirs.push(indicatorOf(other));
        entry.keys.push(mine.key);
      }
    }
    for (const entry of shared.values()) {
      const anchorKey = [...entry.keys].sort()[0]!;
      const correlationKey = correlationKeys.campaign(report.exercise, anchorKey);
      if (state.alert(correlationKey)?.tooCommon) continue;
      const delta = deltaFor(correlationKey, { kind: 'campaign', anchorKey });
      include(delta, report, entry.mine);
      include(delta, entry.report, entry.theirs);
      delta.pairs.push([report.reportId, entry.report.reportId]);
    }
  }

  function sectorSurge(): void {
    const period = settings.surgePeriodMs;
    // Every surge this report could join is full: nothing to read or write.
    if (surgeIsFull(report, state, settings)) return;
    const fetched = state.sectorReports(
      report.sector,
      report.category,
      report.exercise,
      t - period,
      t + period,
      sightingLimit(settings),
    );
    const rows = uniqueByReport([...fetched.rows, report].map((r) => ({ report: r }))).map(
      (row) => row.report,
    );
    rows.sort(compareReports);
    const surge = (day: string) =>
      deltaFor(correlationKeys.sectorSurge(report.exercise, report.sector, report.category, day), {
        kind: 'sector-surge',
        sector: report.sector,
        category: report.category,
        day,
      });
    if (!fetched.complete) {
      // More reports in two periods than an alert may hold: the day's surge is full.
      const delta = surge(surgeDay(report.detectedAt, settings));
      include(delta, report, []);
      delta.tooCommon = true;
      return;
    }
    for (const member of surgeMembers(rows, t, settings)) {
      include(surge(surgeDay(member.detectedAt, settings)), member, []);
    }
  }

  function deltaFor(correlationKey: string, subject: AlertSubject): AlertDelta {
    let delta = deltas.get(correlationKey);
    if (!delta) {
      delta = {
        correlationKey,
        exercise: report.exercise,
        subject,
        contributions: new Map(),
        pairs: [],
        tooCommon: false,
        causedBy: report,
      };
      deltas.set(correlationKey, delta);
    }
    return delta;
  }
}

/**
 * Adds an entry's earlier matches: every stored report carrying its indicator
 * detected no earlier than one window before the entry was created (and
 * received before it expired or was removed) — the same reports the entry
 * would have matched had they arrived after it.
 */
export function backfillWatchlistEntry(
  entry: WatchlistEntry,
  state: CorrelationState,
  settings: CorrelationSettings,
): AlertWrite[] {
  const writes: AlertWrite[] = [];
  const key = indicatorKey(entry.indicator);
  for (const exercise of [false, true]) {
    const fetched = state.sightings(
      key,
      exercise,
      Date.parse(entry.createdAt) - settings.windowMs,
      END_OF_TIME_MS,
      settings.maxContributions + 1,
    );
    const rows = fetched.rows.filter((sighting) => watchlistCovers(entry, sighting.report, settings));
    if (rows.length === 0) continue;
    const correlationKey = correlationKeys.watchlistMatch(exercise, entry.id);
    const delta: AlertDelta = {
      correlationKey,
      exercise,
      subject: { kind: 'watchlist-match', entryId: entry.id, indicator: entry.indicator },
      contributions: new Map(),
      pairs: [],
      tooCommon: !fetched.complete,
      causedBy: rows.reduce((a, b) =>
        Date.parse(b.report.receivedAt) > Date.parse(a.report.receivedAt) ? b : a,
      ).report,
    };
    for (const sighting of rows) include(delta, sighting.report, [indicatorOf(sighting)]);
    writes.push(...applyDelta(state.alert(correlationKey), delta, settings));
  }
  return writes;
}

/** The watchlist as it stood when the hub received the report, looking back one window from each entry's creation. */
export function watchlistCovers(
  entry: WatchlistEntry,
  report: ReportFacts,
  settings: CorrelationSettings,
): boolean {
  const received = Date.parse(report.receivedAt);
  if (Date.parse(report.detectedAt) < Date.parse(entry.createdAt) - settings.windowMs) return false;
  if (entry.expiresAt !== null && received >= Date.parse(entry.expiresAt)) return false;
  if (entry.removedAt !== null && received >= Date.parse(entry.removedAt)) return false;
  return true;
}

/**
 * Two sightings of one indicator correlate when they come from different
 * organisations, were detected within the window of each other (the
 * caller reads only that range), and are not both the host of one URL both
 * reports carry: that URL is the match, and its host would only repeat it.
 */
function correlates(mine: Sighting, other: Sighting): boolean {
  if (other.report.reportId === mine.report.reportId) return false;
  if (other.report.organisationId === mine.report.organisationId) return false;
  return !mine.hostOf.some((url) => other.hostOf.includes(url));
}

/**
 * Whether some interval of one window's length that holds `at` has
 * sightings from more organisations than the cap, or more sightings than an
 * alert may hold. Only intervals holding the new sighting can have changed.
 */
export function overCap(rows: readonly Sighting[], at: number, settings: CorrelationSettings): boolean {
  const sorted = [...rows].sort((a, b) => compareReports(a.report, b.report));
  const times = sorted.map((s) => Date.parse(s.report.detectedAt));
  const organisations = new Map<string, number>();
  let right = 0;
  for (let left = 0; left < sorted.length && times[left]! <= at; left += 1) {
    if (times[left]! < at - settings.windowMs) continue;
    right = Math.max(right, left);
    while (right < sorted.length && times[right]! <= times[left]! + settings.windowMs) {
      const org = sorted[right]!.report.organisationId;
      organisations.set(org, (organisations.get(org) ?? 0) + 1);
      right += 1;
    }
    if (organisations.size > settings.tooCommonOrganisations || right - left > settings.maxContributions)
      return true;
    const org = sorted[left]!.report.organisationId;
    const count = organisations.get(org)! - 1;
    if (count === 0) organisations.delete(org);
    else organisations.set(org, count);
  }
  return false;
}

/** Reports (sorted) in some interval of one surge period that holds `at` and at least the surge's number of reports. */
export function surgeMembers(
  sorted: readonly ReportFacts[],
  at: number,
  settings: CorrelationSettings,
): ReportFacts[] {
  const times = sorted.map((r) => Date.parse(r.detectedAt));
  const members: ReportFacts[] = [];
  let right = 0;
  let covered = 0;
  for (let left = 0; left < sorted.length && times[left]! <= at; left += 1) {
    if (times[left]! < at - settings.surgePeriodMs) continue;
    right = Math.max(right, left);
    while (right < sorted.length && times[right]! <= times[left]! + settings.surgePeriodMs) right += 1;
    if (right - left >= settings.surgeReports) {
      for (let i = Math.max(left, covered); i < right; i += 1) members.push(sorted[i]!);
      covered = Math.max(covered, right);
    }
  }
  return members;
}

/**
 * The days whose surge alerts a report detected at `t` can join: those of
 * every report within one surge period of it.
 */
export function surgeDaysAround(t: number, settings: CorrelationSettings): readonly string[] {
  // Asked several times per report (locks, alerts to read, `surgeIsFull`, the rule): remembered.
  let known = surgeDaysMemo.get(settings);
  if (!known) surgeDaysMemo.set(settings, (known = new Map()));
  let days = known.get(t);
  if (days === undefined) {
    if (known.size >= 10_000) known.clear();
    days = computeSurgeDaysAround(t, settings);
    known.set(t, days);
  }
  return days;
}

const surgeDaysMemo = new WeakMap<CorrelationSettings, Map<number, readonly string[]>>();

function computeSurgeDaysAround(t: number, settings: CorrelationSettings): readonly string[] {
  const days = new Set<string>();
  for (let day = t - settings.surgePeriodMs; ; day += 3_600_000) {
    days.add(surgeDay(new Date(Math.min(day, t + settings.surgePeriodMs)).toISOString(), settings));
    if (day >= t + settings.surgePeriodMs) break;
  }
  return [...days];
}

/**
 * Whether every surge alert the report could join is already too common
 * (which is final): the surge rule can then change nothing, and the
 * correlator need not read the sector's reports around it. During a
 * national incident that is most reports of the busiest sectors.
 */
export function surgeIsFull(
  report: ReportFacts,
  state: Pick<CorrelationState, 'alert'>,
  settings: CorrelationSettings,
): boolean {
  return surgeDaysAround(Date.parse(report.detectedAt), settings).every(
    (day) =>
      state.alert(correlationKeys.sectorSurge(report.exercise, report.sector, report.category, day))
        ?.tooCommon === true,
  );
}

/** The calendar day of a detection time in the configured offset, as YYYY-MM-DD. */
export function surgeDay(detectedAt: string, settings: CorrelationSettings): string {
  return new Date(Date.parse(detectedAt) + settings.surgeDayOffsetMinutes * 60_000)
    .toISOString()
    .slice(0, 10);
}

function include(delta: AlertDelta, report: ReportFacts, indicators: AlertIndicator[]): void {
  const existing = delta.contributions.get(report.reportId);
  if (existing) existing.indicators.push(...indicators);
  else delta.contributions.set(report.reportId, { report, indicators: [...indicators] });
}

function indicatorOf(sighting: Sighting): AlertIndicator {
  return sighting.written ? plain(sighting) : { ...plain(sighting), derived: true };
}

function plain(sighting: Sighting): AlertIndicator {
  return { type: sighting.indicator.type, value: sighting.indicator.value };
}

function uniqueByReport<T extends { report: { reportId: string } }>(rows: readonly T[]): T[] {
  const byId = new Map<string, T>();
  for (const row of rows) if (!byId.has(row.report.reportId)) byId.set(row.report.reportId, row);
  return [...byId.values()];
}
