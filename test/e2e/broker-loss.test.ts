import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_ENVELOPE_SCHEMA, type AlertRecord, type ReportEnvelope } from '@renkei/schema';
import {
  createPrivateBroker,
  createTestDatabase,
  eventually,
  spawnService,
  type PrivateBroker,
  type ServiceProcess,
  type TestDatabase,
} from '@renkei/testing';

/**
 * A correlator whose broker goes away for longer than it may wait exits
 * non-zero, so a supervisor restarts it; the new one catches up with nothing
 * lost or stored twice. The broker here is the test's own: stopping the
 * shared one would break every suite running beside this one.
 */
describe('a correlator that loses its broker', () => {
  let broker: PrivateBroker;
  let database: TestDatabase;
  let producer: Producer | undefined;
  const processes: ServiceProcess[] = [];
  const prefix = `loss-${randomUUID().slice(0, 8)}.`;
  let env: Record<string, string>;

  beforeAll(async () => {
    [broker, database] = await Promise.all([createPrivateBroker(), createTestDatabase()]);
    await broker.start();
    env = {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: broker.brokers,
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_LOSS_TIMEOUT_MS: '4000',
      DEPENDENCY_CHECK_INTERVAL_MS: '500',
      CORRELATOR_SESSION_TIMEOUT_MS: '6000',
      FEED_SWEEP_MS: '200',
    };
  }, 180_000);

  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    await Promise.all(processes.map((service) => service.kill()));
    await broker?.remove();
    await database?.drop();
  });

  async function connectProducer(): Promise<Producer> {
    const kafka = new Kafka({ clientId: 'loss-test', brokers: [broker.brokers], logLevel: logLevel.NOTHING });
    const connected = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await connected.connect();
    return connected;
  }

  let pairs = 0;

  /** Two reports from two organisations sharing a domain: one alert per pair (hours apart from other pairs: no surge). */
  function pair(): ReportEnvelope[] {
    const domain = `c2-${randomUUID()}.example`;
    const detectedAt = new Date(Date.now() - (pairs += 1) * 7_200_000).toISOString();
    return (['a-csirt', 'b-ceptar'] as const).map((organisationId) => {
      const id = randomUUID();
      return {
        schema: REPORT_ENVELOPE_SCHEMA,
        id,
        organisationId,
        sector: organisationId === 'a-csirt' ? 'central-government' : 'finance',
        submittedBy: `${organisationId}-user`,
        receivedAt: new Date().toISOString(),
        contentSha256: 'b'.repeat(64),
        report: {
          id,
          title: 'C2 beacon',
          category: 'malware',
          severity: 'high',
          tlp: 'GREEN',
          detectedAt,
          indicators: [{ type: 'domain', value: domain }],
          exercise: false,
        },
      };
    });
  }

  async function send(envelopes: ReportEnvelope[]): Promise<void> {
    await producer!.send({
      topic: `${prefix}renkei.reports.v1`,
      acks: -1,
      messages: envelopes.map((envelope) => ({ key: envelope.id, value: JSON.stringify(envelope) })),
    });
  }

  const stored = async () =>
    (await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM reports')).rows[0]!.n;

  it('exits non-zero after the loss timeout, and a new correlator catches up with nothing lost', async () => {
    const first = await spawnService('correlator', env, { label: 'correlator-losing-broker' });
    processes.push(first);
    producer = await connectProducer();
    const before = Array.from({ length: 10 }, pair).flat();
    await send(before);
    await eventually(async () => expect(await stored()).toBe(before.length), { timeoutMs: 60_000 });
    await producer.disconnect();
    producer = undefined;

    const stoppedAt = Date.now();
    await broker.stop();
    expect(await first.exited).toBe(1);
    const waited = Date.now() - stoppedAt;
    expect(waited).toBeGreaterThanOrEqual(4_000);
    const fatal = first.lines.find((line) => line.level === 'fatal');
    expect(['RENKEI_BROKER_LOST', 'RENKEI_CONSUMER_CRASHED', 'RENKEI_FEED_RELAY_FAILED']).toContain(
      fatal?.code,
    );

    await broker.start();
    producer = await connectProducer();
    const after = Array.from({ length: 10 }, pair).flat();
    await send(after);
    const second = await spawnService('correlator', env, { label: 'correlator-after-loss' });
    processes.push(second);

    const all = [...before, ...after];
    await eventually(async () => expect(await stored()).toBe(all.length), { timeoutMs: 90_000 });
    const reports = await database.pool.query<{ id: string }>('SELECT id FROM reports');
    expect(reports.rows.map((row) => row.id).sort()).toEqual(all.map((envelope) => envelope.id).sort());
    await eventually(
      async () => {
        const { rows } = await database.pool.query<{ alerts: number; unpublished: number }>(
          `SELECT (SELECT count(*)::int FROM alerts) AS alerts,
                  (SELECT count(*)::int FROM feed_events WHERE published_at IS NULL)
                + (SELECT count(*)::int FROM feed_outbox) AS unpublished`,
        );
        expect(rows[0]).toEqual({ alerts: all.length / 2, unpublished: 0 });
      },
      { timeoutMs: 30_000 },
    );
    const versions = await database.pool.query<{ record: AlertRecord }>('SELECT record FROM alert_versions');
    expect(versions.rows.every((row) => row.record.version === 1)).toBe(true);
    expect(await second.stop()).toBe(0);
  });
});
