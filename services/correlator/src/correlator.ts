import type { KafkaMessage } from 'kafkajs';
import {
  HEADERS,
  isBrokerUnavailable,
  keepConsuming,
  readHeader,
  TOPICS,
  withDeadline,
  type Consumer,
  type KeptConsumer,
  type AcknowledgedSender,
  type TopicNames,
} from '@renkei/bus';
import { isDatabaseUnavailable, type Pool } from '@renkei/db';
import { isRenkeiError, type Logger } from '@renkei/runtime';
import { reportEnvelopeSchema, tlpChangeMessageSchema } from '@renkei/schema';
import { observeHop, type HubMetrics } from '@renkei/metrics';
import { ChunkGroups } from './chunk-groups.js';
import { processChunk, type ChunkItem } from './process-batch.js';
import { processReport, type CorrelationContext, type ProcessOutcome } from './process-report.js';
import { parseMessage } from './messages.js';
import { isTlpChangeMessage, processTlpChange } from './tlp-change.js';

export interface CorrelatorDeps {
  pool: Pool;
  consumer: Consumer;
  producer: AcknowledgedSender;
  topics: TopicNames;
  logger: Logger;
  /** Asks the feed relay to publish now: a report raised alert versions. */
  onAlerts: () => void;
  /** False once the service is closing: retries stop and the consumer can leave. */
  isRunning: () => boolean;
  context: CorrelationContext;
  /** Reports per transaction: a fetched batch is stored in chunks of at most this many. */
  chunkSize: number;
  /** The consumer group, for the lag series. */
  groupId: string;
  metrics?: HubMetrics;
  /** Opt-in: a consumer crash kafkajs will not restart from ends the service; otherwise it is restarted. */
  onFinalCrash?: (error: Error) => void;
}

const RETRY_DELAYS_MS = [100, 250, 500, 1_000, 2_000];

/**
 * Consumes the reports topic a fetched batch at a time, storing each chunk
 * of a batch in one transaction (`processChunk`). Offsets are resolved and
 * committed only after the chunk's transaction committed, and storing is
 * idempotent, so a crash at any point replays at most the uncommitted
 * messages and changes nothing twice.
 *
 * A report that fails for any reason other than PostgreSQL being away would
 * fail forever, so it goes to the dead-letter topic with the reason and the
 * partition moves on.
 */
export async function runCorrelator(correlatorDeps: CorrelatorDeps): Promise<KeptConsumer> {
  const deps: RunningCorrelator = {
    ...correlatorDeps,
    // A transaction holds one chunk of each partition at most: fewer, larger
    // transactions give an alert fewer versions (each rewrites its record).
    groups: new ChunkGroups((items) => {
      correlatorDeps.metrics?.batchSize.observe({ stage: 'correlator' }, items.length);
      return processChunk(correlatorDeps.pool, items, correlatorDeps.context);
    }, correlatorDeps.chunkSize * TOPICS.reports.partitions),
  };
  const { consumer, topics } = deps;
  return keepConsuming(consumer, {
    subscription: { topics: [topics.reports], fromBeginning: true },
    logger: deps.logger,
    ...(deps.onFinalCrash ? { onFinalCrash: deps.onFinalCrash } : {}),
    run: {
      // Every partition of a fetch at once, so their chunks share a transaction (ChunkGroups).
      partitionsConsumedConcurrently: TOPICS.reports.partitions,
      eachBatchAutoResolve: false,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
      }) => {
        const { topic, partition } = batch;
        const fetched = Date.now();
        for (const message of batch.messages)
          observeHop(deps.metrics, 'reports-topic', (fetched - Number(message.timestamp)) / 1000);
        for (let start = 0; start < batch.messages.length; start += deps.chunkSize) {
          // A rebalance or shutdown: leave the rest uncommitted for the partition's next owner.
          if (!isRunning() || isStale()) return;
          const chunk = batch.messages.slice(start, start + deps.chunkSize);
          const begun = performance.now();
          await processMessages(deps, topic, partition, chunk, heartbeat);
          observeHop(deps.metrics, 'correlator-store', (Date.now() - fetched) / 1000, chunk.length);
          // Only now is every message of the chunk stored (or dead-lettered) and committed in PostgreSQL.
          const last = chunk.at(-1)!.offset;
          resolveOffset(last);
          await commitOffsetsIfNecessary();
          deps.metrics?.kafkaConsumed.inc({ topic }, chunk.length);
          deps.metrics?.batchLinger.observe({ stage: 'correlator' }, (performance.now() - begun) / 1000);
          deps.metrics?.consumerLag.set(
            { group: deps.groupId, topic, partition: String(partition) },
            Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last) - 1n)),
          );
          await heartbeat();
        }
      },
    },
  });
}

type Delivery = ChunkItem & { message: KafkaMessage };

type RunningCorrelator = CorrelatorDeps & { groups: ChunkGroups<ChunkItem, ProcessOutcome> };

/**
 * A TLP change applies to a report already stored, so it waits for the
 * reports before it in the partition and runs alone, in a transaction of
 * its own; the reports around it are chunked as usual.
 */
async function processMessages(
  deps: RunningCorrelator,
  topic: string,
  partition: number,
  messages: readonly KafkaMessage[],
  heartbeat: () => Promise<void>,
): Promise<void> {
  let reports: KafkaMessage[] = [];
  for (const message of messages) {
    if (!isTlpChangeMessage(message)) {
      reports.push(message);
      continue;
    }
    await processReportMessages(deps, topic, partition, reports, heartbeat);
    reports = [];
    await processTlpChangeMessage(deps, topic, partition, message, heartbeat);
  }
  await processReportMessages(deps, topic, partition, reports, heartbeat);
}

async function processTlpChangeMessage(
  deps: CorrelatorDeps,
  topic: string,
  partition: number,
  message: KafkaMessage,
  heartbeat: () => Promise<void>,
): Promise<void> {
  const log = messageLogger(deps.logger, message, partition);
  const change = parseMessage(message, tlpChangeMessageSchema);
  if (!change.ok) {
    log.error({ reason: change.reason }, 'unreadable TLP change: moved to the dead-letter topic');
    await deadLetter(deps, { topic, partition, message }, change.reason);
    return;
  }
  try {
    const alerts = await retryWhileDatabaseAway(deps, log, heartbeat, () =>
      processTlpChange(deps.pool, change.value, log),
    );
    if (alerts.length > 0) deps.onAlerts();
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error;
    log.error({ err: error }, 'TLP change could not be applied: moved to the dead-letter topic');
    await deadLetter(deps, { topic, partition, message }, describeFailure(error));
  }
}

/**
 * One chunk of a partition, in one transaction with the chunks other
 * partitions hand in at the same time. When it fails for a reason other than
 * PostgreSQL being away, one of its messages may be at fault (a poison
 * message): each is then processed on its own, so the bad one goes to the
 * dead-letter topic and the others are stored.
 */
async function processReportMessages(
  deps: RunningCorrelator,
  topic: string,
  partition: number,
  messages: readonly KafkaMessage[],
  heartbeat: () => Promise<void>,
): Promise<void> {
  const deliveries: Delivery[] = [];
  for (const message of messages) {
    const envelope = parseMessage(message, reportEnvelopeSchema);
    if (envelope.ok) {
      deliveries.push({
        message,
        envelope: envelope.value,
        at: { topic, partition, offset: message.offset },
      });
      continue;
    }
    const log = messageLogger(deps.logger, message, partition);
    log.error({ reason: envelope.reason }, 'unreadable report message: moved to the dead-letter topic');
    await deadLetter(deps, { topic, partition, message }, envelope.reason);
  }
  if (deliveries.length === 0) return;
  const log = deps.logger.child({
    partition,
    from: deliveries[0]!.at.offset,
    to: deliveries.at(-1)!.at.offset,
  });
  let outcomes: ProcessOutcome[];
  try {
    outcomes = await retryWhileDatabaseAway(deps, log, heartbeat, () => deps.groups.process(deliveries));
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error;
    log.warn({ err: error, reports: deliveries.length }, 'batch failed: processing its reports one by one');
    for (const delivery of deliveries) await processOne(deps, topic, partition, delivery, heartbeat);
    return;
  }
  deliveries.forEach((delivery, index) => report(deps, delivery, partition, outcomes[index]!));
}

/** The per-report path: a poison message's chunk falls back to it. */
async function processOne(
  deps: CorrelatorDeps,
  topic: string,
  partition: number,
  delivery: Delivery,
  heartbeat: () => Promise<void>,
): Promise<void> {
  const log = messageLogger(deps.logger, delivery.message, partition);
  try {
    const outcome = await retryWhileDatabaseAway(deps, log, heartbeat, () =>
      processReport(deps.pool, delivery.envelope, delivery.at, deps.context),
    );
    report(deps, delivery, partition, outcome);
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error;
    log.error({ err: error }, 'report could not be processed: moved to the dead-letter topic');
    await deadLetter(deps, { topic, partition, message: delivery.message }, describeFailure(error));
  }
}

/**
 * Only what can succeed is retried: while PostgreSQL is unreachable the same
 * work is tried again, with backoff, for as long as it takes (the database
 * watch stops the service only when a loss timeout is set). Nothing of the
 * failed attempt was committed, and its offsets were not resolved. A closing
 * service leaves without committing: the next owner tries again.
 */
async function retryWhileDatabaseAway<T>(
  deps: CorrelatorDeps,
  log: Logger,
  heartbeat: () => Promise<void>,
  work: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || !deps.isRunning()) throw error;
      const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
      if (attempt === 0) log.warn({ err: error }, 'PostgreSQL unavailable: retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
      await heartbeat();
    }
  }
}

function report(deps: CorrelatorDeps, delivery: Delivery, partition: number, outcome: ProcessOutcome): void {
  const log = messageLogger(deps.logger, delivery.message, partition);
  if (!outcome.stored) {
    log.info('report already stored: redelivery ignored');
    return;
  }
  log.info({ alerts: outcome.alerts.map((a) => ({ id: a.id, version: a.version })) }, 'report stored');
  for (const alert of outcome.alerts) deps.metrics?.alertsRaised.inc({ kind: alert.kind });
  if (outcome.alerts.length > 0) deps.onAlerts();
}

function messageLogger(logger: Logger, message: KafkaMessage, partition: number): Logger {
  return logger.child({
    reportId: readHeader(message.headers, HEADERS.reportId),
    partition,
    offset: message.offset,
  });
}

function describeFailure(error: unknown): string {
  if (isRenkeiError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 1000) : String(error);
}

async function deadLetter(
  deps: CorrelatorDeps,
  { topic, partition, message }: { topic: string; partition: number; message: KafkaMessage },
  reason: string,
): Promise<void> {
  for (;;) {
    try {
      await withDeadline(
        deps.producer.send({
          topic: deps.topics.reportsDeadLetter,
          acks: -1,
          messages: [
            {
              key: message.key,
              value: message.value,
              headers: {
                ...message.headers,
                'renkei-dead-letter-reason': reason,
                'renkei-source': `${topic}/${partition}/${message.offset}`,
              },
            },
          ],
        }),
        30_000,
        'dead-lettering a message',
      );
      return;
    } catch (error) {
      // Without the dead letter the message must not be committed: retry until
      // the broker takes it (the broker watch ends the service only when a loss timeout is set).
      if (!isBrokerUnavailable(error) || !deps.isRunning()) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}
