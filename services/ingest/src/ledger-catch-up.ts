import { createConsumer, HEADERS, onFinalCrash, readHeader, type Kafka } from '@renkei/bus';
import { isDatabaseUnavailable, type Pool, type PoolClient } from '@renkei/db';
import type { HubMetrics } from '@renkei/metrics';
import type { Closable, Logger } from '@renkei/runtime';
import { REPORT_ENVELOPE_SCHEMA, reportEnvelopeSchema } from '@renkei/schema';
import { planLedgerCatchUp, type TopicReport } from './ledger-plan.js';
import { LedgerRowAppeared, lockLedgerRows, writeLedgerCatchUp } from './queries/submissions.js';
import type { UnledgeredReports } from './unledgered.js';

export interface LedgerCatchUpOptions {
  kafka: Kafka;
  topic: string;
  /** A group of its own: the ledger follows every report, whatever the correlators have read. */
  groupId: string;
  pool: Pool;
  unledgered: UnledgeredReports;
  logger: Logger;
  /** A crash kafkajs will not restart from. */
  onCrash: (error: Error) => void;
  /** How many messages share one transaction. */
  chunkSize?: number;
  metrics?: HubMetrics;
}

export interface LedgerCatchUp extends Closable {
  /** Whether the consumer has joined its group. */
  isJoined(): boolean;
}

/** Waits between tries while PostgreSQL is away: short, so the ledger is current seconds after it returns. */
const RETRY_DELAYS_MS = [100, 250, 500];

/**
 * Keeps ingest's ledger in line with the reports topic, which is the record:
 * every report message is read (in partition order, from the first one the
 * group has not committed) and its ledger row written, accepted and audited
 * once, if the request path did not. That covers the reports answered 202
 * while PostgreSQL was away and every 202 whose ledger update failed after
 * Kafka's acknowledgement. While PostgreSQL is away it waits and tries again
 * without committing, so the topic holds everything not yet written.
 */
export async function startLedgerCatchUp(options: LedgerCatchUpOptions): Promise<LedgerCatchUp> {
  const { kafka, topic, groupId, pool, unledgered, logger, metrics } = options;
  const chunkSize = options.chunkSize ?? 1_000;
  const log = logger.child({ component: 'ledger-catch-up' });
  const consumer = createConsumer(kafka, {
    groupId,
    maxWaitTimeInMs: 1_000,
    // A backlog after an outage comes in large fetches, a few transactions per second.
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  let joined = false;
  let stopping = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  consumer.on(consumer.events.CRASH, () => (joined = false));
  onFinalCrash(consumer, options.onCrash);

  const write = async (reports: TopicReport[], isRunning: () => boolean, heartbeat: () => Promise<void>) => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const begun = performance.now();
        await inTransaction(pool, log, async (db) => {
          const rows = await lockLedgerRows(db, [...new Set(reports.map((report) => report.envelope.id))]);
          await writeLedgerCatchUp(db, planLedgerCatchUp(rows, reports));
        });
        const ms = Math.round(performance.now() - begun);
        if (attempt > 0) log.info({ reports: reports.length, ms }, 'ledger caught up after a failed try');
        else log.debug({ reports: reports.length, ms }, 'ledger chunk written');
        return true;
      } catch (error) {
        if (stopping || !isRunning()) return false;
        if (!(error instanceof LedgerRowAppeared)) {
          // A failure that is not the database's own would repeat forever: it
          // is logged as an error, and the partition waits for a fix rather
          // than leave reports out of the ledger.
          const level = isDatabaseUnavailable(error) ? 'warn' : 'error';
          if (attempt === 0 || level === 'error') {
            log[level](
              { err: error, reports: reports.length },
              'the ledger could not be written: trying again',
            );
          }
          await sleep(RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!);
        }
        await heartbeat();
      }
    }
  };

  await consumer.connect();
  try {
    // A new group starts at the beginning: reports sent before it first joined count too.
    await consumer.subscribe({ topic, fromBeginning: true });
  } catch (error) {
    await consumer.disconnect().catch(() => undefined);
    throw error;
  }
  // Not awaited: joining the group waits out a killed predecessor's session
  // (30 s), and intake must not wait with it; nothing of intake needs the
  // catch-up to have joined.
  consumer
    .run({
      // Every partition at once: after an outage each holds its share of the
      // backlog, and its transactions wait mostly on PostgreSQL's commits, not
      // on this process, so taking them in turns only adds those waits up.
      partitionsConsumedConcurrently: 16,
      eachBatchAutoResolve: false,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
      }) => {
        for (let start = 0; start < batch.messages.length; start += chunkSize) {
          // A rebalance or shutdown: the partition's next owner reads the rest.
          if (stopping || !isRunning() || isStale()) return;
          const chunk = batch.messages.slice(start, start + chunkSize);
          const reports = readReports(chunk, batch.partition, log);
          if (reports.length > 0 && !(await write(reports, () => isRunning() && !isStale(), heartbeat)))
            return;
          const last = chunk.at(-1)!.offset;
          resolveOffset(last);
          await commitOffsetsIfNecessary();
          unledgered.forget(reports.map((report) => report.envelope.id));
          metrics?.kafkaConsumed.inc({ topic }, chunk.length);
          metrics?.consumerLag.set(
            { group: groupId, topic, partition: String(batch.partition) },
            Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last) - 1n)),
          );
          await heartbeat();
        }
      },
    })
    .catch((error: unknown) => {
      if (stopping) return;
      log.error({ err: error }, 'the ledger catch-up could not start');
      options.onCrash(error instanceof Error ? error : new Error(String(error)));
    });

  return {
    isJoined: () => joined,
    async close() {
      stopping = true;
      const disconnected = consumer.disconnect();
      // Still joining: kafkajs's disconnect waits for the JoinGroup answer, which
      // waits out a killed predecessor's session (30 s), so a restarted ingest
      // stopped at once hung until it was forced out. Nothing has been consumed
      // or committed yet, so there is nothing to wait for: the process exits and
      // the broker drops the member that never finished joining.
      if (!joined) {
        disconnected.catch(() => undefined);
        return;
      }
      await disconnected;
    },
  };
}

/**
 * The report messages of a chunk. TLP changes share the topic and are not
 * the ledger's; a message no schema reads is the correlator's to dead-letter.
 */
function readReports(messages: readonly TopicMessage[], partition: number, log: Logger): TopicReport[] {
  const reports: TopicReport[] = [];
  for (const message of messages) {
    const type = readHeader(message.headers, HEADERS.messageType);
    if (type !== undefined && type !== REPORT_ENVELOPE_SCHEMA) continue;
    let parsed;
    try {
      parsed = reportEnvelopeSchema.safeParse(JSON.parse(message.value?.toString('utf8') ?? ''));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      log.warn({ partition, offset: message.offset }, 'unreadable report message: not in the ledger');
      continue;
    }
    reports.push({ envelope: parsed.data, partition, offset: message.offset });
  }
  return reports;
}

/** What the catch-up reads of a Kafka message. */
interface TopicMessage {
  offset: string;
  value: Buffer | null;
  headers?: Parameters<typeof readHeader>[0];
}

/**
 * A transaction on a client of its own. The connection may drop between two
 * statements (PostgreSQL stopped, a proxy cut): the client then emits
 * `error` with no query to take it, so a listener is held for the whole
 * transaction, and a broken client is destroyed rather than pooled again.
 */
async function inTransaction(
  pool: Pool,
  log: Logger,
  work: (db: PoolClient) => Promise<void>,
): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
    log.warn({ err: error }, 'PostgreSQL connection lost during a ledger transaction');
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    broken ??= isDatabaseUnavailable(error) ? (error as Error) : undefined;
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
