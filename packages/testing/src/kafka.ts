import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { eventually } from './eventually.js';

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

/** Every message value on a topic, from the beginning to its end as of the call, parsed as JSON. */
export async function readWholeTopic<T>(topic: string): Promise<T[]> {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const expected = offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  const consumer = kafka.consumer({
    groupId: `${topic}.reader-${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs: 200,
  });
  const values: T[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        values.push(JSON.parse(message.value!.toString()) as T);
      },
    });
    await eventually(
      () => {
        if (values.length < expected)
          throw new Error(`read ${values.length} of ${expected} messages on ${topic}`);
      },
      { timeoutMs: 30_000 },
    );
  } finally {
    await consumer.disconnect();
  }
  return values;
}
