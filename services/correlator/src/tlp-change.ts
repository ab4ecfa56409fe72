import type { KafkaMessage } from 'kafkajs';
import { lockKeys, mostRestrictiveTlp } from '@renkei/correlation';
import { HEADERS, readHeader } from '@renkei/bus';
import { withTransaction, type Pool, type PoolClient } from '@renkei/db';
import { appendAlertVersionsToFeed } from '@renkei/feed';
import { indicatorKey } from '@renkei/indicators';
import { tightensTlp } from '@renkei/policy';
import type { Logger } from '@renkei/runtime';
import { TLP_CHANGE_SCHEMA, type AlertRecord, type Tlp, type TlpChangeMessage } from '@renkei/schema';
import { lockIdsFor } from './locks.js';
import { takeAdvisoryLocks } from './store.js';
import {
  findTlpChangeTarget,
  lockAlertsHoldingReport,
  readReportTlp,
  updateReportTlp,
  writeTightenedVersions,
} from './tlp-change-queries.js';

export type TlpChangeOutcome =
  | { applied: false; reason: 'not-tighter'; tlp: Tlp }
  | { applied: true; previousTlp: Tlp; alerts: AlertRecord[] };

/**
 * The next version of an alert once one of its reports is tightened to
 * `tlp`: that contribution carries the new label, the record's TLP is
 * recomputed, and a `tlp` history entry says which report changed and what
 * it was before, which is what the policy replays (`contributionsAt`) to
 * show each viewer every earlier version as it was and every later one
 * without what it may no longer know. Null when the alert does not hold the
 * report or already holds it at that label or tighter.
 */
export function tightenAlert(
  record: AlertRecord,
  reportId: string,
  tlp: Tlp,
  at: string,
): AlertRecord | null {
  const contribution = record.contributions.find((c) => c.reportId === reportId);
  if (!contribution || !tightensTlp(contribution.tlp, tlp)) return null;
  const version = record.version + 1;
  const contributions = record.contributions.map((c) => (c.reportId === reportId ? { ...c, tlp } : c));
  // Like a contribution's, the time of a change never moves `updatedAt` back.
  const updatedAt = Date.parse(at) > Date.parse(record.updatedAt) ? at : record.updatedAt;
  return {
    ...record,
    version,
    tlp: mostRestrictiveTlp(contributions.map((c) => c.tlp)),
    contributions,
    history: [...record.history, { version, at, change: 'tlp', reportId, previousTlp: contribution.tlp }],
    updatedAt,
  };
}

/**
 * The advisory-lock ids processing the change's report took (its unsuppressed
 * indicators, its sector and category), sorted like every other lock set. A
 * caller that takes one sorted set for several messages (a batch) merges
 * these in and passes `locksHeld` to {@link applyTlpChange}.
 */
export async function tlpChangeLockIds(db: PoolClient, change: TlpChangeMessage): Promise<string[]> {
  const target = await findTlpChangeTarget(db, change.reportId);
  // Keyed by report id, a change follows its report on the partition: a
  // missing report was never stored (dead-lettered), and never will be.
  if (!target) throw new Error(`report ${change.reportId} is not stored`);
  return lockIdsFor([
    ...target.indicators.map((indicator) => lockKeys.indicator(target.exercise, indicatorKey(indicator))),
    lockKeys.sector(target.exercise, target.sector, target.category),
  ]);
}

/**
 * Applies a TLP change inside the caller's transaction: the report's TLP,
 * and a new version of every alert holding it, appended to the feed in the
 * same transaction. It holds the advisory locks processing that report took,
 * so no report transaction that reads this report's TLP (a new alert is built
 * from stored reports' facts), or writes those alerts, runs meanwhile. A
 * change that does not tighten the report as it stands (a redelivery, or a
 * looser change that lost a race with a tighter one) changes nothing.
 */
export async function applyTlpChange(
  db: PoolClient,
  change: TlpChangeMessage,
  { locksHeld = false }: { locksHeld?: boolean } = {},
): Promise<TlpChangeOutcome> {
  if (!locksHeld) await takeAdvisoryLocks(db, await tlpChangeLockIds(db, change));
  const current = await readReportTlp(db, change.reportId);
  if (!tightensTlp(current, change.tlp)) return { applied: false, reason: 'not-tighter', tlp: current };
  await updateReportTlp(db, change.reportId, change.tlp);

  const at = new Date(change.receivedAt).toISOString();
  const records = (await lockAlertsHoldingReport(db, change.reportId)).flatMap(
    ({ record }) => tightenAlert(record, change.reportId, change.tlp, at) ?? [],
  );
  await writeTightenedVersions(db, records, change.reportId);
  await appendAlertVersionsToFeed(
    db,
    records.map((record) => ({ alertId: record.id, version: record.version, reportId: change.reportId })),
  );
  return { applied: true, previousTlp: current, alerts: records };
}

/** Whether a message on the reports topic is a TLP change (ingest names it in a header). */
export function isTlpChangeMessage(message: KafkaMessage): boolean {
  return readHeader(message.headers, HEADERS.messageType) === TLP_CHANGE_SCHEMA;
}

/** One TLP change in a transaction of its own (the one-message consumer's unit of work). */
export async function processTlpChange(
  pool: Pool,
  change: TlpChangeMessage,
  log: Logger,
): Promise<AlertRecord[]> {
  const outcome = await withTransaction(pool, (db) => applyTlpChange(db, change));
  if (!outcome.applied) {
    log.info({ tlp: change.tlp, current: outcome.tlp }, 'TLP change does not tighten the report: ignored');
    return [];
  }
  log.info(
    {
      from: outcome.previousTlp,
      to: change.tlp,
      alerts: outcome.alerts.map((a) => ({ id: a.id, version: a.version })),
    },
    'report TLP tightened',
  );
  return outcome.alerts;
}
