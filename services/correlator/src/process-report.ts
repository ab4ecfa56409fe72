import {
  backfillWatchlistEntry,
  correlateReport,
  correlationKeys,
  END_OF_TIME_MS,
  lockKeys,
  surgeDaysAround,
  surgeIsFull,
  type AlertWrite,
  type CorrelationSettings,
  type ReportFacts,
  type Sighting,
  type WatchlistEntry,
} from '@renkei/correlation';
import { withTransaction, type Pool, type PoolClient } from '@renkei/db';
import { appendAlertVersionsToFeed } from '@renkei/feed';
import { indicatorKey, readIndicators, type WarningListMatcher } from '@renkei/indicators';
import type { AlertRecord, ReportEnvelope } from '@renkei/schema';
import type { AlertCache } from './alert-cache.js';
import { lockIdsFor } from './locks.js';
import { judgeVersion, sourceLockKey, withdrawRemovedOf } from './versions.js';
import {
  claimEntryToBackfill,
  findExclusions,
  insertIndicators,
  insertReport,
  insertSightings,
  markBackfilled,
  markTooCommon,
  sectorQuery,
  sightingQuery,
  Snapshot,
  takeAdvisoryLocks,
  writeAlertVersion,
  type KafkaPosition,
} from './store.js';

export type ProcessOutcome = { stored: false } | { stored: true; alerts: AlertRecord[] };

/** What the rules need besides the database: the same in every correlator of a hub. */
export interface CorrelationContext {
  settings: CorrelationSettings;
  warningLists: WarningListMatcher;
  /** The alert records this process last read or committed: a chunk reads only the others. */
  alertCache?: AlertCache;
}

/**
 * Stores one report, its indicators and the alert versions it causes, in one
 * transaction. A redelivered report (same id) changes nothing, so Kafka's
 * at-least-once delivery becomes exactly-once storage.
 *
 * Several correlators stay one: before reading anything the rules use, the
 * transaction takes advisory locks on every indicator it carries and on its
 * sector and category, sorted (so two never deadlock). Two reports that can
 * change each other's results always share one of those locks, so they run
 * one after the other, and the second sees the first's rows (READ COMMITTED
 * takes a new snapshot per statement, and a lock is released only after the
 * commit is visible). An alert's versions are therefore written one at a
 * time, each from the one before, and appended to the feed in that order.
 */
export async function processReport(
  pool: Pool,
  envelope: ReportEnvelope,
  at: KafkaPosition,
  context: CorrelationContext,
): Promise<ProcessOutcome> {
  const { settings } = context;
  return withTransaction(pool, async (db) => {
    if (!(await insertReport(db, envelope, at))) return { stored: false };

    const { report } = envelope;
    const facts = reportFacts(envelope);
    const { written, observables } = readIndicators(report.indicators);
    await insertIndicators(
      db,
      report.id,
      written.map((read, position) => ({ ...read, role: report.indicators[position]!.role })),
    );

    const excluded = await findExclusions(db, observables, facts.receivedAt);
    const judged = observables.map((observable) => ({
      ...observable,
      suppressedBy: context.warningLists.match(observable.indicator) ?? excluded.get(observable.key) ?? null,
    }));
    await takeAdvisoryLocks(
      db,
      lockIdsFor([
        ...judged
          .filter((observable) => observable.suppressedBy === null)
          .map((observable) => lockKeys.indicator(facts.exercise, observable.key)),
        lockKeys.sector(facts.exercise, facts.sector, facts.category),
        ...(report.source ? [sourceLockKey(facts.organisationId, report.source)] : []),
      ]),
    );
    if (report.source) {
      // Under the source's lock: which sightings this version keeps (versions.ts).
      const sourced = judged.map((observable) => ({ observable, suppressedBy: observable.suppressedBy }));
      await judgeVersion(db, facts, report.source, sourced);
      sourced.forEach((item, index) => (judged[index]!.suppressedBy = item.suppressedBy));
    }
    const active = judged.filter((observable) => observable.suppressedBy === null);
    const sightings: Sighting[] = active.map((observable) => ({
      key: observable.key,
      indicator: observable.indicator,
      report: facts,
      written: observable.written,
      hostOf: observable.hostOf,
    }));
    await insertSightings(db, facts, judged);
    await withdrawRemovedOf(db, [envelope]);

    const snapshot = await readNeighbourhood(db, facts, sightings, settings);
    const outcome = correlateReport({ report: facts, sightings }, snapshot, settings);
    await markTooCommon(
      db,
      outcome.tooCommon.map(({ key, exercise }) => ({
        exercise,
        indicator: active.find((observable) => observable.key === key)!.indicator,
      })),
    );
    const alerts = await writeAll(db, snapshot, outcome.writes);
    return { stored: true, alerts };
  });
}

/** What the rules know of a report, as the store gives it back. */
export function reportFacts(envelope: ReportEnvelope): ReportFacts {
  const { report } = envelope;
  return {
    reportId: report.id,
    organisationId: envelope.organisationId,
    sector: envelope.sector,
    tlp: report.tlp,
    severity: report.severity,
    category: report.category,
    // As PostgreSQL gives them back, so the new report compares like the stored ones.
    detectedAt: new Date(report.detectedAt).toISOString(),
    receivedAt: new Date(envelope.receivedAt).toISOString(),
    exercise: report.exercise,
  };
}

/** Reads, under the locks, exactly what the rules will ask about this report. */
async function readNeighbourhood(
  db: PoolClient,
  facts: ReportFacts,
  sightings: readonly Sighting[],
  settings: CorrelationSettings,
): Promise<Snapshot> {
  const snapshot = new Snapshot();
  const t = Date.parse(facts.detectedAt);
  await snapshot.loadSightings(
    db,
    sightings.map((sighting) => sightingQuery(facts, sighting, settings)),
  );
  const entries = await snapshot.loadWatchlistEntries(db, sightings);
  await snapshot.loadTooCommon(
    db,
    facts.exercise,
    sightings.map((sighting) => sighting.indicator),
  );
  const days = surgeDaysAround(t, settings);
  await snapshot.loadAlerts(db, [
    ...sightings.flatMap((sighting) => [
      correlationKeys.sharedIndicator(facts.exercise, sighting.indicator),
      correlationKeys.campaign(facts.exercise, sighting.key),
    ]),
    ...days.map((day) => correlationKeys.sectorSurge(facts.exercise, facts.sector, facts.category, day)),
    ...entries.map((entry: WatchlistEntry) => correlationKeys.watchlistMatch(facts.exercise, entry.id)),
  ]);
  if (!surgeIsFull(facts, snapshot, settings))
    await snapshot.loadSectorReports(db, sectorQuery(facts, settings));
  return snapshot;
}

async function writeAll(
  db: PoolClient,
  snapshot: Snapshot,
  writes: readonly AlertWrite[],
): Promise<AlertRecord[]> {
  for (const write of writes) {
    await writeAlertVersion(db, write.correlationKey, write.record, write.causedByReportId);
    snapshot.wrote(write.correlationKey, write.record);
  }
  await appendAlertVersionsToFeed(
    db,
    writes.map((write) => ({
      alertId: write.record.id,
      version: write.record.version,
      reportId: write.causedByReportId,
    })),
  );
  return writes.map((write) => write.record);
}

/**
 * Matches one new watchlist entry against the reports stored before it, in
 * the same locks as report processing (its indicator, live and exercise), so
 * a report arriving meanwhile is counted once, by one of the two. Returns
 * undefined when no entry waits.
 */
export async function backfillNextEntry(
  pool: Pool,
  settings: CorrelationSettings,
): Promise<{ entryId: string; alerts: AlertRecord[] } | undefined> {
  return withTransaction(pool, async (db) => {
    const entry = await claimEntryToBackfill(db);
    if (!entry) return undefined;
    const key = indicatorKey(entry.indicator);
    await takeAdvisoryLocks(
      db,
      lockIdsFor([false, true].map((exercise) => lockKeys.indicator(exercise, key))),
    );
    const snapshot = new Snapshot();
    const from = Date.parse(entry.createdAt) - settings.windowMs;
    await snapshot.loadSightings(
      db,
      [false, true].map((exercise) => ({
        indicator: entry.indicator,
        key,
        exercise,
        fromMs: from,
        toMs: END_OF_TIME_MS,
        limit: settings.maxContributions + 1,
      })),
    );
    await snapshot.loadAlerts(
      db,
      [false, true].map((exercise) => correlationKeys.watchlistMatch(exercise, entry.id)),
    );
    const alerts = await writeAll(db, snapshot, backfillWatchlistEntry(entry, snapshot, settings));
    await markBackfilled(db, entry.id);
    return { entryId: entry.id, alerts };
  });
}
