import { evaluateSharedIndicator, sharedIndicatorKey } from '@renkei/correlation';
import { withTransaction, type Pool } from '@renkei/db';
import { appendToFeed } from '@renkei/feed';
import { indicatorKey, normalizeIndicatorValue } from '@renkei/indicators';
import { ALERT_RECORD_SCHEMA, type AlertRecord, type ReportEnvelope } from '@renkei/schema';
import { lockIdsFor } from './locks.js';
import {
  findAlerts,
  findSightings,
  insertIndicators,
  insertReport,
  takeAdvisoryLocks,
  writeAlertVersion,
  type KafkaPosition,
  type StoredIndicator,
} from './store.js';

export type ProcessOutcome = { stored: false } | { stored: true; alerts: AlertRecord[] };

/**
 * Stores one report, its indicators and the alert versions it causes, in one
 * transaction. A redelivered report (same id) changes nothing, so Kafka's
 * at-least-once delivery becomes exactly-once storage.
 */
export async function processReport(
  pool: Pool,
  envelope: ReportEnvelope,
  at: KafkaPosition,
): Promise<ProcessOutcome> {
  return withTransaction(pool, async (db) => {
    if (!(await insertReport(db, envelope, at))) return { stored: false };

    const { report } = envelope;
    const indicators: StoredIndicator[] = report.indicators.map((indicator, position) => ({
      position,
      type: indicator.type,
      value: indicator.value,
      normalizedValue: normalizeIndicatorValue(indicator.type, indicator.value),
      role: indicator.role,
    }));
    const distinct = new Map(indicators.map((i) => [indicatorKey(i.type, i.normalizedValue), i]));
    if (distinct.size === 0) return { stored: true, alerts: [] };

    // Serialise with any other transaction correlating the same indicators, so
    // two reports arriving together still see each other.
    await takeAdvisoryLocks(db, lockIdsFor(distinct.keys()));
    await insertIndicators(db, report.id, indicators);

    const targets = [...distinct.values()];
    const sightings = await findSightings(db, targets, report.exercise);
    const correlationKeys = targets.map((t) =>
      sharedIndicatorKey(report.exercise, t.type, t.normalizedValue),
    );
    const previousAlerts = await findAlerts(db, correlationKeys);

    const alerts: AlertRecord[] = [];
    for (const [index, target] of targets.entries()) {
      const correlationKey = correlationKeys[index]!;
      const draft = evaluateSharedIndicator({
        indicator: { type: target.type, value: target.normalizedValue },
        exercise: report.exercise,
        sightings: sightings
          .filter((s) => s.type === target.type && s.normalizedValue === target.normalizedValue)
          .map(({ type: _type, normalizedValue: _value, ...contribution }) => contribution),
        previous: previousAlerts.get(correlationKey),
        // The time of the report that caused this version, not of the processing:
        // any correlator replaying the same reports writes the same alert.
        now: envelope.receivedAt,
      });
      if (!draft) continue;
      const record: AlertRecord = { schema: ALERT_RECORD_SCHEMA, ...draft };
      await writeAlertVersion(db, correlationKey, record, report.id);
      alerts.push(record);
    }
    await appendToFeed(
      db,
      alerts.map((record) => ({
        kind: 'alert',
        payload: record,
        alert: { id: record.id, version: record.version },
        reportId: report.id,
      })),
    );
    return { stored: true, alerts };
  });
}
