import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

export const TEST_KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';

/** A prefix of the suite's own for topics and consumer groups on the shared broker. */
export function randomTopicPrefix(): string {
  return `test-${randomBytes(5).toString('hex')}.`;
}

export function testKafka(): Kafka {
  return new Kafka({
    clientId: 'renkei-tests',
    brokers: TEST_KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
}

/** Deletes the suite's topics; other suites' topics are left alone. */
export async function deleteTopicsWithPrefix(prefix: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}
