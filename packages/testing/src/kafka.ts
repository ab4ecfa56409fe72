import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import {
  aclBindings,
  applyAcls,
  ensureTopics,
  kafkaClientSecurity,
  TOPICS,
  type KafkaClientSecurity,
  type TopicKey,
} from '@renkei/bus';
import { eventually } from './eventually.js';

export const TEST_KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
/** The shared broker's security, as `KAFKA_SECURITY` in the tests' environment says. */
export const TEST_KAFKA_SECURITY: 'plaintext' | 'sasl_ssl' =
  process.env.KAFKA_SECURITY === 'sasl_ssl' ? 'sasl_ssl' : 'plaintext';

/** The tests act on the shared broker as its admin (the checkout's credentials). */
function adminSecurity(): KafkaClientSecurity | undefined {
  return kafkaClientSecurity({ KAFKA_SECURITY: TEST_KAFKA_SECURITY }, { principal: 'admin' });
}

/** A prefix of the suite's own for topics and consumer groups on the shared broker. */
export function randomTopicPrefix(): string {
  return `test-${randomBytes(5).toString('hex')}.`;
}

export function testKafka(): Kafka {
  const security = adminSecurity();
  return new Kafka({
    clientId: 'renkei-tests',
    brokers: TEST_KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
    ...(security ? { ...security, connectionTimeout: 10_000 } : {}),
  });
}

const preparedPrefixes = new Map<string, Promise<void>>();

/**
 * On a secured shared broker the services may not create topics: the admin
 * creates a suite's topics and grants each service its ACLs for the prefix,
 * as `renkei topics` does. Once per prefix; nothing to do on a plaintext broker.
 */
export function prepareTestPrefix(prefix: string): Promise<void> {
  if (TEST_KAFKA_SECURITY === 'plaintext') return Promise.resolve();
  let prepared = preparedPrefixes.get(prefix);
  if (!prepared) {
    prepared = (async () => {
      const admin = testKafka().admin();
      await admin.connect();
      try {
        await ensureTopics(admin, prefix, Object.keys(TOPICS) as TopicKey[]);
        await applyAcls(admin, aclBindings(prefix));
      } finally {
        await admin.disconnect();
      }
    })();
    preparedPrefixes.set(prefix, prepared);
    prepared.catch(() => preparedPrefixes.delete(prefix));
  }
  return prepared;
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
