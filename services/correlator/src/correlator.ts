import {
  HEADERS,
  readHeader,
  withDeadline,
  type Consumer,
  type Producer,
  type TopicNames,
} from '@renkei/bus';
import type { Pool } from '@renkei/db';
import type { Logger } from '@renkei/runtime';
import { describeIssues, fieldIssues, reportEnvelopeSchema } from '@renkei/schema';
import type { KafkaMessage } from 'kafkajs';
import type { AlertPublisher } from './outbox.js';
import { processReport } from './process-report.js';

export interface CorrelatorDeps {
  pool: Pool;
  consumer: Consumer;
  producer: Producer;
  topics: TopicNames;
  publisher: AlertPublisher;
  logger: Logger;
}

/**
 * Consumes the reports topic. Offsets are committed only after a report's
 * transaction committed, and storing is idempotent, so a crash at any point
 * replays at most the uncommitted messages and changes nothing twice.
 */
export async function runCorrelator({
  pool,
  consumer,
  producer,
  topics,
  publisher,
  logger,
}: CorrelatorDeps): Promise<void> {
  await consumer.subscribe({ topic: topics.reports, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 1,
    eachMessage: async ({ topic, partition, message }) => {
      const reportId = readHeader(message.headers, HEADERS.reportId);
      const log = logger.child({ reportId, partition, offset: message.offset });
      const envelope = parseEnvelope(message);
      if (!envelope.ok) {
        log.error({ reason: envelope.reason }, 'unreadable report message: moved to the dead-letter topic');
        await withDeadline(
          producer.send({
            topic: topics.reportsDeadLetter,
            acks: -1,
            messages: [
              {
                key: message.key,
                value: message.value,
                headers: {
                  ...message.headers,
                  'renkei-dead-letter-reason': envelope.reason,
                  'renkei-source': `${topic}/${partition}/${message.offset}`,
                },
              },
            ],
          }),
          30_000,
          'dead-lettering a message',
        );
        return;
      }
      const outcome = await processReport(pool, envelope.value, { topic, partition, offset: message.offset });
      if (!outcome.stored) {
        log.info('report already stored: redelivery ignored');
        return;
      }
      log.info({ alerts: outcome.alerts.map((a) => ({ id: a.id, version: a.version })) }, 'report stored');
      if (outcome.alerts.length > 0) publisher.wake();
    },
  });
}

type Parsed =
  { ok: true; value: ReturnType<typeof reportEnvelopeSchema.parse> } | { ok: false; reason: string };

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
