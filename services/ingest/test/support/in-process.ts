import { randomBytes } from 'node:crypto';
import { createReliableProducer, prepareTopics, type Producer } from '@renkei/bus';
import type { HttpApp } from '@renkei/http';
import { startRegistryCache, type OrganisationRegistry } from '@renkei/registry';
import type { Logger } from '@renkei/runtime';
import {
  controllable,
  createMigratedTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  randomTopicPrefix,
  registerOrganisations,
  testKafka,
  testTokenVerifier,
  type ControllableProducer,
  type TestDatabase,
  type TestKeys,
  type TestOrganisation,
} from '@renkei/testing';
import { buildIngestApp, type IngestDeps } from '../../src/app.js';

/**
 * The ingest API in this process, on a real database and a real broker, with
 * a producer whose sends can be made to fail or hang. Here, not in
 * `@renkei/testing`, because it builds ingest itself, which that package
 * must not depend on.
 */
export interface InProcessIngest {
  database: TestDatabase;
  keys: TestKeys;
  prefix: string;
  reportsTopic: string;
  /** The reliable producer under `kafka`. */
  producer: Producer;
  /** What the apps send through: make its sends fail or hang. */
  kafka: ControllableProducer;
  registry: OrganisationRegistry;
  /** The app built with the options given at start. */
  http: HttpApp;
  /**
   * Another app on the same database, topic, producer and registry: the
   * defaults (a 1 s Kafka timeout, a random import-id key, always ready) with
   * `overrides`. The caller closes it.
   */
  build(overrides?: Partial<IngestDeps>): Promise<HttpApp>;
  /** Closes the first app, the registry and the producer; drops the database, keys and topics. */
  close(): Promise<void>;
}

export interface InProcessIngestOptions extends Partial<Omit<IngestDeps, 'logger'>> {
  /** Registered (enabled) before the registry is read. */
  organisations: readonly TestOrganisation[];
  logger: Logger;
  /** The Kafka client id, so a suite's connections can be told apart in the broker's log. */
  clientId: string;
}

export async function startInProcessIngest({
  organisations,
  logger,
  clientId,
  ...deps
}: InProcessIngestOptions): Promise<InProcessIngest> {
  const [database, keys] = await Promise.all([createMigratedTestDatabase(), createTestKeys()]);
  const prefix = randomTopicPrefix();
  let registry: OrganisationRegistry | undefined;
  let producer: Producer | undefined;
  let http: HttpApp | undefined;
  const close = async () => {
    await http?.close(1_000);
    await registry?.close();
    await producer?.disconnect();
    await database.drop();
    await keys.remove();
    await deleteTopicsWithPrefix(prefix);
  };
  try {
    await registerOrganisations(database, organisations);
    registry = await startRegistryCache({
      pool: database.pool,
      databaseUrl: database.url,
      logger,
      pollEveryMs: 1_000,
    });
    // As the admin, with the shared broker's security: it makes the topic and sends as ingest would.
    const client = testKafka({ clientId, logger });
    const reportsTopic = (await prepareTopics(client, prefix, ['reports'])).reports;
    producer = createReliableProducer(client);
    await producer.connect();
    const kafka = controllable(producer);
    const verifyToken = await testTokenVerifier(keys);
    const shared = {
      logger,
      pool: database.pool,
      producer: kafka.producer,
      reportsTopic,
      verifyToken,
      registry,
    };
    const build = (overrides: Partial<IngestDeps> = {}) =>
      buildIngestApp({
        kafkaTimeoutMs: 1_000,
        importIdKey: randomBytes(32),
        checkReadiness: async () => true,
        ...shared,
        ...overrides,
      });
    http = await build(deps);
    return { database, keys, prefix, reportsTopic, producer, kafka, registry, http, build, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
