import { HEADERS, withDeadline, type Producer } from '@renkei/bus';
import { withTransaction, type Pool } from '@renkei/db';
import type { AlertRecord } from '@renkei/schema';
import type { Closable, Logger } from '@renkei/runtime';

export interface AlertPublisher extends Closable {
  /** Asks for a sweep now (after a transaction wrote alert versions). */
  wake(): void;
}

const BATCH_SIZE = 200;

/**
 * Moves alert versions from the outbox table to the alerts topic. A version is
 * marked published only after Kafka acknowledged it, so a crash can publish a
 * version twice but never lose one; consumers drop repeats by (id, version).
 * SKIP LOCKED lets several correlators sweep without publishing the same rows.
 */
export function startAlertPublisher({
  pool,
  producer,
  topic,
  logger,
  sweepEveryMs,
}: {
  pool: Pool;
  producer: Producer;
  topic: string;
  logger: Logger;
  sweepEveryMs: number;
}): AlertPublisher {
  let closed = false;
  let wakeUp: (() => void) | undefined;
  let pending = false;

  const publishBatch = () =>
    withTransaction(pool, async (db) => {
      const { rows } = await db.query<{ cursor: string; record: AlertRecord; caused_by_report_id: string }>(
        `SELECT cursor, record, caused_by_report_id FROM alert_versions
          WHERE published_at IS NULL ORDER BY cursor LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [BATCH_SIZE],
      );
      if (rows.length === 0) return 0;
      await withDeadline(
        producer.send({
          topic,
          acks: -1,
          messages: rows.map(({ record, caused_by_report_id }) => ({
            key: record.id,
            value: JSON.stringify(record),
            headers: {
              [HEADERS.reportId]: caused_by_report_id,
              [HEADERS.alertId]: record.id,
              [HEADERS.alertVersion]: String(record.version),
              [HEADERS.messageType]: record.schema,
              [HEADERS.contentType]: 'application/json',
            },
          })),
        }),
        30_000,
        'publishing alerts',
      );
      await db.query(`UPDATE alert_versions SET published_at = now() WHERE cursor = ANY($1::bigint[])`, [
        rows.map((row) => row.cursor),
      ]);
      for (const { record, caused_by_report_id } of rows) {
        logger.info(
          {
            alertId: record.id,
            version: record.version,
            cursor: record.cursor,
            reportId: caused_by_report_id,
          },
          'alert published',
        );
      }
      return rows.length;
    });

  const loop = async () => {
    while (!closed) {
      pending = false;
      try {
        while (!closed && (await publishBatch()) === BATCH_SIZE);
      } catch (error) {
        logger.warn({ err: error }, 'outbox sweep failed; will retry');
      }
      if (closed || pending) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sweepEveryMs);
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  };
  const done = loop();

  return {
    wake() {
      pending = true;
      wakeUp?.();
    },
    async close() {
      closed = true;
      wakeUp?.();
      await done;
    },
  };
}
