import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Pool } from '@renkei/db';
import type { ReceivedEvent, Submitter } from './load.js';

/**
 * The alert a correlating pair raises. The load also raises sector surges (many
 * reports of one category from one sector), whose versions grow with every
 * report: they are left out of the counts, which only pairs make exact.
 */
const PAIR_ALERT = 'shared-indicator';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the database says became of the ids the clients were answered 202 for. */
export interface OracleResult {
  accepted: number;
  /** Ids whose client gave up without a 202 (still answered 503 or nothing when its retries ran out). */
  gaveUp: number;
  /** Answers other than 202, over every attempt, by status ("no answer" when none came). */
  non202: Record<string, number>;
  storedOnce: number;
  lost: number;
  /** Reports counted twice: a pair's alert (`shared-indicator`) past version 1, or one report causing two of its versions. */
  duplicated: number;
  /** Pairs whose two reports were both answered 202. */
  alertsExpected: number;
  /** Of those, the pairs that raised their alert. */
  alertsGot: number;
  /**
   * Alerts of pairs with a report that was never answered 202: allowed (a 503
   * means "may or may not be stored"), counted for the record.
   */
  alertsUnanswered: number;
  /** Ids answered 202 whose ledger row is not `accepted`. */
  ledgerNotAccepted: number;
  /** Ids answered 202 audited as `report.submitted` a number of times other than once. */
  auditNotOnce: number;
  /** From the start of the wait until every id answered 202 was stored (or the wait ran out). */
  storedAfterMs: number;
  /** Where the lost ones went, when there are any: a few ids, and how many are on the reports topic. */
  lostDiagnosis?: string;
}

/**
 * Waits (bounded) until every id answered 202 is stored and every expected
 * alert raised, then counts. Waiting stops early once nothing has changed for
 * `quietMs` after the load ended, so a lost report costs the wait, not more;
 * it is longer than a consumer group's session timeout, for which the
 * partitions of a killed correlator wait before another takes them.
 */
export async function checkOracle(
  pool: Pool,
  submitter: Submitter,
  {
    timeoutMs = 180_000,
    quietMs = 60_000,
    topic,
  }: {
    timeoutMs?: number;
    quietMs?: number;
    /** The reports topic, read for the lost ids when some are lost. */
    topic?: { kafka: Kafka; name: string };
  } = {},
): Promise<OracleResult> {
  const acceptedIds = submitter.accepted().map((outcome) => outcome.id);
  const pairs = submitter.correlatingPairs();
  const alertsExpected = pairs.size;
  const pairAlerts = async () => {
    const { rows } = await pool.query<{ values: string[] }>(
      `SELECT jsonb_path_query_array(record, '$.indicators[*].value') AS values FROM alerts WHERE kind = $1`,
      [PAIR_ALERT],
    );
    const raised = new Map<number, number>();
    for (const row of rows)
      for (const value of row.values) {
        const pair = submitter.pairOf(value);
        if (pair !== undefined) raised.set(pair, (raised.get(pair) ?? 0) + 1);
      }
    return {
      got: [...pairs].filter((pair) => raised.has(pair)).length,
      unanswered: [...raised.keys()].filter((pair) => !pairs.has(pair)).length,
      twice: [...raised.values()].filter((count) => count > 1).length,
    };
  };
  const started = performance.now();
  let storedAfterMs = Number.NaN;
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const stored = await countStored(pool, acceptedIds);
    const alerts = (await pairAlerts()).got;
    if (stored === acceptedIds.length && Number.isNaN(storedAfterMs))
      storedAfterMs = performance.now() - started;
    if (stored === acceptedIds.length && alerts >= alertsExpected) break;
    if (stored + alerts !== last) {
      last = stored + alerts;
      lastChange = performance.now();
    }
    if (performance.now() - started > timeoutMs || performance.now() - lastChange > quietMs) break;
    await sleep(500);
  }
  // Late duplicates (a redelivery after the last store) show up in the counts below only if given a moment.
  await sleep(3_000);

  const storedOnce = await countStored(pool, acceptedIds);
  if (storedOnce === acceptedIds.length && Number.isNaN(storedAfterMs))
    storedAfterMs = performance.now() - started;
  const { rows: versionRows } = await pool.query<{ extra: string; twice: string }>(
    `SELECT (SELECT coalesce(sum(version - 1), 0) FROM alerts WHERE kind = $1) AS extra,
            (SELECT count(*) FROM (SELECT caused_by_report_id FROM alert_versions JOIN alerts ON alerts.id = alert_id
                                    WHERE alerts.kind = $1 GROUP BY 1 HAVING count(*) > 1) twice) AS twice`,
    [PAIR_ALERT],
  );
  const raised = await pairAlerts();
  const { rows: ledgerRows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM report_submissions WHERE id = ANY($1::uuid[]) AND state = 'accepted'`,
    [acceptedIds],
  );
  const { rows: auditRows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM (
       SELECT object FROM audit_events WHERE kind = 'report.submitted' AND object = ANY($1::text[])
        GROUP BY object HAVING count(*) = 1) once`,
    [acceptedIds],
  );
  let lostDiagnosis: string | undefined;
  if (storedOnce < acceptedIds.length) {
    const { rows } = await pool.query<{ id: string }>(
      'SELECT id::text FROM reports WHERE id = ANY($1::uuid[])',
      [acceptedIds],
    );
    const stored = new Set(rows.map((row) => row.id));
    const lost = acceptedIds.filter((id) => !stored.has(id));
    lostDiagnosis = `lost ids include ${lost.slice(0, 3).join(', ')}`;
    if (topic) {
      const onTopic = await keysOnTopic(topic.kafka, topic.name).catch((error: unknown) => error);
      lostDiagnosis +=
        onTopic instanceof Set
          ? `; ${lost.filter((id) => onTopic.has(id)).length} of the ${lost.length} are on the reports topic (${onTopic.size} keys read)`
          : `; the reports topic could not be read (${onTopic instanceof Error ? onTopic.message : String(onTopic)})`;
    }
  }
  const non202 = Object.fromEntries(
    Object.entries(submitter.statuses).filter(([status]) => status !== '202'),
  );
  return {
    accepted: acceptedIds.length,
    gaveUp: submitter.outcomes.length - acceptedIds.length,
    non202,
    storedOnce,
    lost: acceptedIds.length - storedOnce,
    duplicated: Number(versionRows[0]!.extra) + Number(versionRows[0]!.twice) + raised.twice,
    alertsExpected,
    alertsGot: raised.got,
    alertsUnanswered: raised.unanswered,
    ledgerNotAccepted: acceptedIds.length - Number(ledgerRows[0]!.n),
    auditNotOnce: acceptedIds.length - Number(auditRows[0]!.n),
    storedAfterMs,
    ...(lostDiagnosis ? { lostDiagnosis } : {}),
  };
}

/** Every key on a topic up to its end as of the call (bounded: 60 s). */
async function keysOnTopic(kafka: Kafka, topic: string): Promise<Set<string>> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const expected = offsets.reduce(
    (sum, partition) => sum + Number(partition.high) - Number(partition.low),
    0,
  );
  const consumer = kafka.consumer({ groupId: `faults-oracle-${randomBytes(4).toString('hex')}` });
  const keys = new Set<string>();
  let read = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        read += 1;
        if (message.key) keys.add(message.key.toString());
      },
    });
    for (const deadline = Date.now() + 60_000; read < expected && Date.now() < deadline;) await sleep(250);
  } finally {
    await consumer.disconnect();
  }
  return keys;
}

async function countStored(pool: Pool, ids: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM reports WHERE id = ANY($1::uuid[])',
    [ids],
  );
  return Number(rows[0]!.n);
}

/** How a resuming client's events compare with the feed: each alert event once, in position order. */
export interface StreamCheck {
  expected: number;
  received: number;
  missing: number;
  repeated: number;
  outOfOrder: number;
}

export async function checkStream(pool: Pool, events: ReceivedEvent[]): Promise<StreamCheck> {
  const { rows } = await pool.query<{ alert_id: string; alert_version: number }>(
    `SELECT alert_id::text, alert_version FROM feed_events WHERE kind = 'alert' ORDER BY position`,
  );
  const key = (alertId: string, version: number) => `${alertId}/${version}`;
  const order = new Map(rows.map((row, index) => [key(row.alert_id, row.alert_version), index]));
  const seen = new Set<string>();
  let repeated = 0;
  let outOfOrder = 0;
  let previous = -1;
  for (const event of events) {
    const k = key(event.alertId, event.version);
    if (seen.has(k)) {
      repeated += 1;
      continue;
    }
    seen.add(k);
    const position = order.get(k) ?? -1;
    if (position < previous) outOfOrder += 1;
    previous = Math.max(previous, position);
  }
  return {
    expected: rows.length,
    received: events.length,
    missing: rows.filter((row) => !seen.has(key(row.alert_id, row.alert_version))).length,
    repeated,
    outOfOrder,
  };
}
