import { HEADERS, readHeader, type Consumer } from '@renkei/bus';
import type { Logger } from '@renkei/runtime';
import { alertRecordSchema, describeIssues, fieldIssues } from '@renkei/schema';
import type { StreamHub } from './stream-hub.js';

export interface AlertsFeed {
  /** True once the consumer joined and fetched, so alerts published from now on will arrive. */
  isLive(): boolean;
}

/** Reads the alerts topic from its end and hands each valid alert version to the hub. */
export async function startAlertsFeed({
  consumer,
  topic,
  hub,
  logger,
}: {
  consumer: Consumer;
  topic: string;
  hub: StreamHub;
  logger: Logger;
}): Promise<AlertsFeed> {
  let joined = false;
  let live = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  // The first completed fetch after joining means the start offsets are fixed.
  consumer.on(consumer.events.FETCH, () => {
    if (joined) live = true;
  });
  consumer.on(consumer.events.CRASH, (event) => {
    live = false;
    logger.error({ err: event.payload.error }, 'alerts consumer crashed');
  });

  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const reportId = readHeader(message.headers, HEADERS.reportId);
      let parsed;
      try {
        parsed = alertRecordSchema.safeParse(JSON.parse(message.value?.toString('utf8') ?? ''));
      } catch {
        logger.error({ offset: message.offset, reportId }, 'alert message is not JSON: skipped');
        return;
      }
      if (!parsed.success) {
        logger.error(
          { offset: message.offset, reportId, reason: describeIssues(fieldIssues(parsed.error)) },
          'alert message does not match the schema: skipped',
        );
        return;
      }
      const delivered = hub.publish(parsed.data);
      logger.info(
        {
          alertId: parsed.data.id,
          version: parsed.data.version,
          cursor: parsed.data.cursor,
          reportId,
          delivered,
        },
        'alert pushed',
      );
    },
  });
  // The caller owns the consumer and disconnects it when the gateway closes.
  return { isLive: () => live };
}
