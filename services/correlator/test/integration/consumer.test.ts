import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReliableProducer, HEADERS, prepareTopics, type Producer } from '@renkei/bus';
import { createLogger } from '@renkei/runtime';
import type { ReportEnvelope, Sector } from '@renkei/schema';
import {
  createMigratedTestDatabase,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  reportEnvelopeFixture,
  testKafka,
  type TestDatabase,
  sharedKafkaEnv,
} from '@renkei/testing';
import { loadCorrelatorConfig } from '../../src/config.js';
import { startCorrelator } from '../../src/service.js';

type Running = Awaited<ReturnType<typeof startCorrelator>>;

function envelope(
  organisationId: string,
  sector: Sector,
  value: string,
  title = 'C2 traffic',
): ReportEnvelope {
  return reportEnvelopeFixture({
    organisationId,
    sector,
    report: { title, indicators: [{ type: 'domain', value }] },
  });
}

/**
 * The correlator's consumer on the real broker and database, in this
 * process: batches with a poison message in them, and the series it exposes.
 */
describe('the correlator consuming batches', () => {
  const logger = createLogger('correlator-consumer-test', 'silent');
  const prefix = randomTopicPrefix();
  let database: TestDatabase;
  let producer: Producer;
  let topics: Awaited<ReturnType<typeof prepareTopics>>;
  let correlator: Running | undefined;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
    const kafka = testKafka({ clientId: 'consumer-test', logger });
    topics = await prepareTopics(kafka, prefix, ['reports', 'reportsDeadLetter']);
    producer = createReliableProducer(kafka);
    await producer.connect();
  }, 60_000);

  afterAll(async () => {
    await correlator?.close();
    await producer?.disconnect();
    await database?.drop();
    await deleteTopicsWithPrefix(prefix);
  });

  it('stores a batch holding a poison message, dead-letters only that one, and counts it all in /metrics', async () => {
    const domain = `batch-${randomUUID()}.example`;
    const good = [
      envelope('a-csirt', 'central-government', domain),
      envelope('b-ceptar', 'finance', domain),
      envelope('c-ceptar', 'finance', `alone-${randomUUID()}.example`),
    ];
    // Valid to the schema, refused by PostgreSQL (a constraint made for this test): fails its whole chunk.
    const poison = envelope('d-csirt', 'water', `poison-${randomUUID()}.example`, 'poison');
    await database.pool.query(`ALTER TABLE reports ADD CONSTRAINT test_poison CHECK (title <> 'poison')`);
    const sent = [good[0]!, poison, good[1]!, good[2]!];
    // Produced before the correlator starts, so they arrive in one fetched batch.
    await producer.send({
      topic: topics.reports,
      acks: -1,
      messages: [
        ...sent.map((e) => ({ key: e.id, value: JSON.stringify(e), headers: { [HEADERS.reportId]: e.id } })),
        { key: 'unreadable', value: 'not json' },
      ],
    });

    correlator = await startCorrelator(
      loadCorrelatorConfig({
        DATABASE_URL: database.url,
        ...(await sharedKafkaEnv(prefix)),
        CORRELATOR_PORT: '0',
        CORRELATOR_SESSION_TIMEOUT_MS: '6000',
        FEED_SWEEP_MS: '200',
      }),
      logger,
    );

    await eventually(
      async () => {
        const { rows } = await database.pool.query<{ id: string }>(`SELECT id FROM reports`);
        expect(rows.map((row) => row.id).sort()).toEqual(good.map((e) => e.id).sort());
      },
      { timeoutMs: 60_000 },
    );
    const alerts = await database.pool.query<{ kind: string; version: number }>(
      `SELECT kind, version FROM alerts`,
    );
    expect(alerts.rows).toEqual([{ kind: 'shared-indicator', version: 1 }]);

    const deadLetters = await eventually(async () => {
      const messages = await readRaw(topics.reportsDeadLetter, 2);
      expect(messages).toHaveLength(2);
      return messages;
    });
    expect(deadLetters.map((m) => m.value).sort()).toEqual([JSON.stringify(poison), 'not json'].sort());
    expect(deadLetters.find((m) => m.value === 'not json')?.reason).toBe('not JSON');
    expect(deadLetters.find((m) => m.value !== 'not json')?.reason).toMatch(/test_poison/);

    const metrics = await eventually(async () => {
      const text = await (await fetch(`${correlator!.metricsUrl}/metrics`)).text();
      expect(text).toMatch(
        /renkei_kafka_messages_consumed_total\{[^}]*topic="[^"]+renkei\.reports\.v1"[^}]*\} 5/,
      );
      return text;
    });
    expect(metrics).toMatch(/renkei_batch_size_count\{[^}]*stage="correlator"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/renkei_kafka_consumer_lag\{[^}]*partition="\d+"[^}]*\} 0/);
    expect(metrics).toMatch(/renkei_alerts_raised_total\{[^}]*kind="shared-indicator"[^}]*\} 1/);
    expect(metrics).toMatch(/renkei_db_pool_connections\{[^}]*state="total"[^}]*\} [1-9]/);
    await eventually(async () => {
      const text = await (await fetch(`${correlator!.metricsUrl}/metrics`)).text();
      expect(text).toMatch(/renkei_feed_events_published_total\{[^}]*\} 1/);
    });
  }, 120_000);
});

/** Every message on a topic so far, raw, with its dead-letter reason. */
async function readRaw(topic: string, expected: number): Promise<{ value: string; reason: string }[]> {
  const consumer = testKafka().consumer({ groupId: `${topic}.reader-${randomUUID()}`, maxWaitTimeInMs: 200 });
  const messages: { value: string; reason: string }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages.push({
          value: message.value?.toString() ?? '',
          reason: String(message.headers?.['renkei-dead-letter-reason'] ?? ''),
        });
      },
    });
    await eventually(() => expect(messages.length).toBeGreaterThanOrEqual(expected), { timeoutMs: 20_000 });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
