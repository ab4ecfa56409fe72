import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  aclBindings,
  applyAcls,
  ensureTopics,
  kafkaCaFile,
  kafkaClient,
  kafkaCredentialsDirectory,
  TOPICS,
  type Kafka,
  type TopicKey,
} from '@renkei/bus';
import { createLogger, stateDirectory, type Logger } from '@renkei/runtime';
import { eventually } from './eventually.js';

export const TEST_KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';

type Security = 'plaintext' | 'sasl_ssl';

/** Where kafka.sh keeps the checkout's broker (and the security it was formatted with). */
const kafkaStateDir = process.env.KAFKA_STATE_DIR ?? path.join(stateDirectory(), 'kafka');

/**
 * The shared broker's security: `KAFKA_SECURITY` if the tests' environment sets it
 * (`npm test` does, from the running broker), else what the checkout's broker was
 * formatted with (kafka.sh writes it down), else sasl_ssl, the default kafka.sh starts.
 */
function sharedBrokerSecurity(): Security {
  const given = process.env.KAFKA_SECURITY;
  if (given === 'plaintext' || given === 'sasl_ssl') return given;
  if (given) throw new Error(`KAFKA_SECURITY must be plaintext or sasl_ssl, not ${given}`);
  try {
    const formatted = readFileSync(path.join(kafkaStateDir, 'security'), 'utf8').trim();
    if (formatted === 'plaintext' || formatted === 'sasl_ssl') return formatted;
  } catch {
    // Not formatted yet: the global set-up starts it with the default.
  }
  return 'sasl_ssl';
}

export const TEST_KAFKA_SECURITY: Security = sharedBrokerSecurity();

/**
 * The Kafka settings a process reaches the shared broker with as `principal`
 * (a spawned service, the CLI): the checkout's credential and CA files, named
 * outright so a test that moves RENKEI_STATE_DIR keeps them.
 */
export function testKafkaEnv(principal: string): Record<string, string> {
  if (TEST_KAFKA_SECURITY === 'plaintext') {
    return { KAFKA_BROKERS: TEST_KAFKA_BROKERS, KAFKA_SECURITY: 'plaintext' };
  }
  const credentials = process.env.KAFKA_CREDENTIALS_DIR ?? kafkaCredentialsDirectory(stateDirectory());
  const ca = process.env.KAFKA_TLS_DIR
    ? path.join(process.env.KAFKA_TLS_DIR, 'ca.pem')
    : kafkaCaFile(stateDirectory());
  return {
    KAFKA_BROKERS: TEST_KAFKA_BROKERS,
    KAFKA_SECURITY: 'sasl_ssl',
    KAFKA_SASL_USERNAME: principal,
    KAFKA_SASL_PASSWORD_FILE: path.join(credentials, principal),
    KAFKA_TLS_CA_FILE: ca,
  };
}

/**
 * The Kafka settings of a service a test starts itself (in-process, or a process
 * of its own) on the shared broker with its suite's `prefix`: each service is its
 * own principal (its default), and on a secured broker the admin has made the
 * prefix's topics and granted the ACLs first, as `renkei topics` does.
 */
export async function sharedKafkaEnv(prefix: string): Promise<Record<string, string>> {
  await prepareTestPrefix(prefix);
  return {
    KAFKA_BROKERS: TEST_KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_SECURITY: TEST_KAFKA_SECURITY,
  };
}

const quiet = createLogger('renkei-tests', 'silent');

/**
 * A client on the shared broker through the hub's own factory. The admin by
 * default: tests set up topics and read and write where they like; a test
 * that means a service's view names that principal.
 */
export function testKafka({
  principal = 'admin',
  clientId = 'renkei-tests',
  logger = quiet,
  brokers = TEST_KAFKA_BROKERS,
}: {
  principal?: string;
  clientId?: string;
  logger?: Logger;
  /** Other addresses of the shared broker (its security is what the client uses). */
  brokers?: string;
} = {}): Kafka {
  const env = testKafkaEnv(principal);
  return kafkaClient(
    {
      KAFKA_BROKERS: brokers.split(','),
      KAFKA_SECURITY: TEST_KAFKA_SECURITY,
      KAFKA_SASL_USERNAME: env.KAFKA_SASL_USERNAME,
      KAFKA_SASL_PASSWORD_FILE: env.KAFKA_SASL_PASSWORD_FILE,
      KAFKA_TLS_CA_FILE: env.KAFKA_TLS_CA_FILE,
    },
    { clientId, principal, logger },
  );
}

/** A prefix of the suite's own for topics and consumer groups on the shared broker. */
export function randomTopicPrefix(): string {
  return `test-${randomBytes(5).toString('hex')}.`;
}

/**
 * As the admin client `kafka`: a prefix's topics and, on a secured broker (`acls`), each
 * service's ACLs on them, as `renkei topics` does.
 */
export async function grantPrefix(
  kafka: Kafka,
  prefix: string,
  { acls, replicationFactor = 1 }: { acls: boolean; replicationFactor?: number },
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, prefix, Object.keys(TOPICS) as TopicKey[], { replicationFactor });
    if (acls) await applyAcls(admin, aclBindings(prefix));
  } finally {
    await admin.disconnect();
  }
}

const preparedPrefixes = new Map<string, Promise<void>>();

/**
 * On a secured shared broker the services may not create topics: the admin
 * creates a suite's topics and grants each service its ACLs for the prefix,
 * as `renkei topics` does. Once per prefix; nothing to do on a plaintext broker.
 */
export function prepareTestPrefix(prefix: string, { always = false } = {}): Promise<void> {
  // On a plaintext broker the services make their own topics; `always` makes them anyway.
  if (TEST_KAFKA_SECURITY === 'plaintext' && !always) return Promise.resolve();
  let prepared = preparedPrefixes.get(prefix);
  if (!prepared) {
    prepared = grantPrefix(testKafka(), prefix, { acls: TEST_KAFKA_SECURITY === 'sasl_ssl' });
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
