import type { KafkaMessage } from 'kafkajs';
import {
  HEADERS,
  isBrokerUnavailable,
  readHeader,
  withDeadline,
  type Consumer,
  type Producer,
  type TopicNames,
} from '@renkei/bus';
import { isDatabaseUnavailable, type Pool } from '@renkei/db';
import { isRenkeiError, type Logger } from '@renkei/runtime';
import {
  describeIssues,
  fieldIssues,
  reportEnvelopeSchema,
  TLP_CHANGE_SCHEMA,
  type ReportEnvelope,
} from '@renkei/schema';
import { processReport, type CorrelationContext } from './process-report.js';
import { isTlpChangeMessage, parseTlpChange, processTlpChange } from './tlp-change.js';

export interface CorrelatorDeps {
  pool: Pool;
  consumer: Consumer;
  producer: Producer;
  topics: TopicNames;
  logger: Logger;
  /** Asks the feed relay to publish now: a report raised alert versions. */
  onAlerts: () => void;
  /** False once the service is closing: retries stop and the consumer can leave. */
  isRunning: () => boolean;
  context: CorrelationContext;
}

const RETRY_DELAYS_MS = [100, 250, 500, 1_000, 2_000];

/**
 * Consumes the reports topic. Offsets are committed only after a report's
 * transaction committed, and storing is idempotent, so a crash at any point
 * replays at most the uncommitted messages and changes nothing twice.
 *
 * Only what can succeed is retried: while PostgreSQL is unreachable the same
 * report is tried again (the database watch stops the service if that lasts);
 * a report that fails for any other reason would fail forever, so it goes to
 * the dead-letter topic with the reason and the partition moves on.
 */
export async function runCorrelator(deps: CorrelatorDeps): Promise<void> {
  const { consumer, topics, logger } = deps;
  await consumer.subscribe({ topic: topics.reports, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 1,
    eachMessage: async ({ topic, partition, message, heartbeat }) => {
      const reportId = readHeader(message.headers, HEADERS.reportId);
      const log = logger.child({ reportId, partition, offset: message.offset });
      const envelope = isTlpChangeMessage(message) ? parseTlpChange(message) : parseEnvelope(message);
      if (!envelope.ok) {
        log.error({ reason: envelope.reason }, 'unreadable report message: moved to the dead-letter topic');
        await deadLetter(deps, { topic, partition, message }, envelope.reason);
        return;
      }
      const at = { topic, partition, offset: message.offset };
      for (let attempt = 0; ; attempt += 1) {
        try {
          if (envelope.value.schema === TLP_CHANGE_SCHEMA) {
            if ((await processTlpChange(deps.pool, envelope.value, log)).length > 0) deps.onAlerts();
            return;
          }
          const outcome = await processReport(deps.pool, envelope.value, at, deps.context);
          if (!outcome.stored) {
            log.info('report already stored: redelivery ignored');
          } else {
            log.info(
              { alerts: outcome.alerts.map((a) => ({ id: a.id, version: a.version })) },
              'report stored',
            );
            if (outcome.alerts.length > 0) deps.onAlerts();
          }
          return;
        } catch (error) {
          if (!isDatabaseUnavailable(error)) {
            log.error({ err: error }, 'report could not be processed: moved to the dead-letter topic');
            await deadLetter(deps, { topic, partition, message }, describeFailure(error));
            return;
          }
          // Leaving without committing: the next owner of the partition tries again.
          if (!deps.isRunning()) throw error;
          const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
          if (attempt === 0) log.warn({ err: error }, 'PostgreSQL unavailable: retrying the report');
          await new Promise((resolve) => setTimeout(resolve, delay));
          await heartbeat();
        }
      }
    },
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
      // Without the dead letter the message must not be committed: retry while
      // the broker may come back; the broker watch stops the service otherwise.
      if (!isBrokerUnavailable(error) || !deps.isRunning()) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

type Parsed = { ok: true; value: ReportEnvelope } | { ok: false; reason: string };

function parseEnvelope(message: KafkaMessage): Parsed {
  if (!message.value) return { ok: false, reason: 'empty message' };
  let json: unknown;
  try {
    json = JSON.parse(message.value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const result = reportEnvelopeSchema.safeParse(json);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, reason: describeIssues(fieldIssues(result.error)).slice(0, 1000) };
}
