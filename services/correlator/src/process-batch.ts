import {
  chunkWrites,
  correlateChunk,
  correlationKeys,
  lockKeys,
  surgeDaysAround,
  surgeIsFull,
  type AlertWrite,
  type CorrelationSettings,
  type IncomingReport,
  type ReportFacts,
  type Sighting,
} from '@renkei/correlation';
import { withTransaction, type PoolClient, type Pool } from '@renkei/db';
import { appendAlertVersionsToFeed } from '@renkei/feed';
import { readIndicators } from '@renkei/indicators';
import type { ReportEnvelope } from '@renkei/schema';
import {
  findExclusionsMany,
  insertIndicatorsMany,
  insertReports,
  insertSightingsMany,
  alertVersionRows,
  writeAlertVersions,
} from './batch-store.js';
import type { AlertCache } from './alert-cache.js';
import { lockIdOf, sortedLockIds } from './locks.js';
import { judgeVersion, sourceLockKey, withdrawRemovedOf } from './versions.js';
import { reportFacts, type CorrelationContext, type ProcessOutcome } from './process-report.js';
import {
  markTooCommon,
  sectorQuery,
  sightingQuery,
  Snapshot,
  takeAdvisoryLocks,
  type KafkaPosition,
} from './store.js';

export interface ChunkItem {
  envelope: ReportEnvelope;
  at: KafkaPosition;
}

/**
 * Stores a chunk of reports (one or more partitions', each in offset order) and every
 * alert version they cause in ONE transaction, with one statement per table,
 * and gives the same results as `processReport` called for each in turn.
 *
 * The chunk takes, in one sorted statement, the union of the advisory locks
 * its reports would take one by one, so it serialises with every transaction
 * that could change its results (and, sorted, never deadlocks with them);
 * then reads the neighbourhood of all its reports at once (the store as it
 * was before the chunk), and runs the rules report by report against that
 * snapshot plus the chunk's earlier reports (`correlateChunk`).
 *
 * Returns one outcome per item, in the items' order; a report delivered twice
 * is stored by its first delivery and `stored: false` for the others.
 */
export async function processChunk(
  pool: Pool,
  items: readonly ChunkItem[],
  context: CorrelationContext,
): Promise<ProcessOutcome[]> {
  const { settings } = context;
  let written: AlertWrite[] = [];
  const results = await withTransaction(pool, async (db): Promise<ProcessOutcome[]> => {
    const firstIndex = new Map<string, number>();
    items.forEach((item, index) => {
      if (!firstIndex.has(item.envelope.report.id)) firstIndex.set(item.envelope.report.id, index);
    });
    const firsts = [...firstIndex.values()].map((index) => items[index]!);
    // The statements of a chunk run one after the other on one connection, and
    // the JavaScript between them used to wait for each: here, what needs no
    // answer from the database is worked out while a statement runs (never two
    // statements at once on the connection). The statements, their order and
    // the transaction are the same; a failed statement still fails the chunk.
    const inserting = settleLater(insertReports(db, firsts));
    // What every first delivery would need once stored (a redelivery, rare, is dropped below).
    const candidates = firsts.map(({ envelope }) => {
      const { written, observables } = readIndicators(envelope.report.indicators);
      const facts = reportFacts(envelope);
      return {
        envelope,
        facts,
        written,
        observables: observables.map((observable) => ({
          observable,
          listed: context.warningLists.match(observable.indicator),
          lock: lockIdOf(lockKeys.indicator(facts.exercise, observable.key)),
        })),
        locks: [
          lockIdOf(lockKeys.sector(facts.exercise, facts.sector, facts.category)),
          ...(envelope.report.source
            ? [lockIdOf(sourceLockKey(facts.organisationId, envelope.report.source))]
            : []),
        ],
      };
    });
    const stored = await inserting;
    const prepared = candidates.filter(({ envelope }) => stored.has(envelope.report.id));
    if (prepared.length === 0) return items.map(() => ({ stored: false }));

    await insertIndicatorsMany(
      db,
      prepared.map(({ envelope, written }) => ({
        reportId: envelope.report.id,
        indicators: written.map((read, position) => ({
          ...read,
          role: envelope.report.indicators[position]!.role,
        })),
      })),
    );

    const all = prepared.flatMap(({ facts, observables }) =>
      observables.map((item) => ({ facts, ...item, receivedAt: facts.receivedAt })),
    );
    const excluded = await findExclusionsMany(db, all);
    const judged = all.map(({ facts, observable, listed }, index) => ({
      report: facts,
      observable,
      suppressedBy: listed ?? excluded.get(index) ?? null,
    }));
    await takeAdvisoryLocks(
      db,
      sortedLockIds([
        ...all.filter((_, index) => judged[index]!.suppressedBy === null).map(({ lock }) => lock),
        ...prepared.flatMap(({ locks }) => locks),
      ]),
    );
    // Under the source locks: which sightings a version of an imported source keeps (versions.ts).
    for (const { envelope, facts } of prepared) {
      if (!envelope.report.source) continue;
      await judgeVersion(
        db,
        facts,
        envelope.report.source,
        judged.filter((item) => item.report === facts),
      );
    }
    const unsuppressed = new Map(prepared.map(({ facts }) => [facts, [] as Sighting[]]));
    for (const { report, observable, suppressedBy } of judged) {
      if (suppressedBy !== null) continue;
      unsuppressed.get(report)!.push({
        key: observable.key,
        indicator: observable.indicator,
        report,
        written: observable.written,
        hostOf: observable.hostOf,
      });
    }
    const incoming: IncomingReport[] = [...unsuppressed].map(([report, sightings]) => ({
      report,
      sightings,
    }));

    // Read before the chunk's sightings are written: the snapshot is the store without the chunk.
    const snapshot = await readChunkNeighbourhood(
      db,
      incoming,
      settings,
      prepared.map(({ envelope }) => envelope.report.id),
      context.alertCache,
    );
    // The rules read only the snapshot: they run, and the versions they make are
    // serialised, while PostgreSQL writes the sightings.
    const sightingsWritten = settleLater(insertSightingsMany(db, judged));
    const outcomes = correlateChunk(incoming, snapshot, settings);
    const writes: AlertWrite[] = chunkWrites(outcomes);
    const versions = alertVersionRows(writes);
    await sightingsWritten;
    await withdrawRemovedOf(
      db,
      prepared.map(({ envelope }) => envelope),
    );
    await markTooCommon(
      db,
      outcomes.flatMap((outcome, index) =>
        outcome.tooCommon.map(({ key, exercise }) => ({
          exercise,
          indicator: incoming[index]!.sightings.find((sighting) => sighting.key === key)!.indicator,
        })),
      ),
    );
    await writeAlertVersions(db, versions);
    written = writes;
    await appendAlertVersionsToFeed(
      db,
      writes.map((write) => ({
        alertId: write.record.id,
        version: write.record.version,
        reportId: write.causedByReportId,
      })),
    );

    const byReport = new Map(
      incoming.map(({ report }, index) => [report.reportId, outcomes[index]!.writes.map((w) => w.record)]),
    );
    return items.map((item, index) => {
      const alerts =
        firstIndex.get(item.envelope.report.id) === index && byReport.get(item.envelope.report.id);
      return alerts ? { stored: true, alerts } : { stored: false };
    });
  });
  // Committed: only now may the cache hold what the chunk wrote (in order, so each alert's latest stays).
  context.alertCache?.remember(written);
  return results;
}

/**
 * Reads, under the chunk's locks, what the rules will ask about each report,
 * in one statement per kind of question for the whole chunk. The chunk's own
 * reports are left out: `correlateChunk` adds each in turn.
 */
async function readChunkNeighbourhood(
  db: PoolClient,
  incoming: readonly IncomingReport[],
  settings: CorrelationSettings,
  chunkReportIds: readonly string[],
  alertCache: AlertCache | undefined,
): Promise<Snapshot> {
  const snapshot = new Snapshot();
  const timeOf = (report: ReportFacts) => Date.parse(report.detectedAt);
  await snapshot.loadSightings(
    db,
    unique(
      incoming.flatMap(({ report, sightings }) =>
        sightings.map((sighting) => sightingQuery(report, sighting, settings)),
      ),
      (q) => `${q.exercise}|${q.key}|${q.fromMs}|${q.toMs}`,
    ),
  );
  const allSightings = incoming.flatMap(({ sightings }) => sightings);
  const entries = await snapshot.loadWatchlistEntries(
    db,
    unique(allSightings, (sighting) => sighting.key),
  );
  for (const exercise of [false, true]) {
    const indicators = unique(
      allSightings.filter((sighting) => sighting.report.exercise === exercise),
      (sighting) => sighting.key,
    ).map((sighting) => sighting.indicator);
    await snapshot.loadTooCommon(db, exercise, indicators);
  }
  // Exactly the alerts each report would lock on its own, no more: an alert
  // row outside the chunk's advisory locks could be held by another correlator.
  const alertKeys = new Set<string>();
  for (const { report, sightings } of incoming) {
    const keys = new Set(sightings.map((sighting) => sighting.key));
    for (const sighting of sightings) {
      alertKeys.add(correlationKeys.sharedIndicator(report.exercise, sighting.indicator));
      alertKeys.add(correlationKeys.campaign(report.exercise, sighting.key));
    }
    for (const day of surgeDaysAround(timeOf(report), settings)) {
      alertKeys.add(correlationKeys.sectorSurge(report.exercise, report.sector, report.category, day));
    }
    for (const entry of entries) {
      if (keys.has(`${entry.indicator.type}:${entry.indicator.value}`)) {
        alertKeys.add(correlationKeys.watchlistMatch(report.exercise, entry.id));
      }
    }
  }
  await snapshot.loadAlerts(db, [...alertKeys], alertCache);
  await snapshot.loadSectorReportsMany(
    db,
    unique(
      // A report whose surges are all full asks nothing of its sector (`surgeIsFull`).
      incoming
        .filter(({ report }) => !surgeIsFull(report, snapshot, settings))
        .map(({ report }) => sectorQuery(report, settings)),
      (q) => `${q.exercise}|${q.sector}|${q.category}|${q.fromMs}|${q.toMs}`,
    ),
    chunkReportIds,
  );
  return snapshot;
}

/**
 * A statement's promise, awaited once the work that runs beside it is done:
 * should that work throw first, the statement's failure is not "unhandled".
 */
function settleLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

function unique<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  return [...new Map(items.map((item) => [keyOf(item), item])).values()];
}
