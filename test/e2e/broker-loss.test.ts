import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportEnvelope } from '@renkei/schema';
import {
  createPrivateBroker,
  createTestDatabase,
  createTestKeys,
  eventually,
  randomTopicPrefix,
  sleep,
  spawnServices,
  type LogLine,
  type PrivateBroker,
  type ServiceProcess,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';
import { expectStoredOnce, reportPairs, sendReports } from '../support/report-pairs.js';

/**
 * The broker stays away until kafkajs has given up on the consumers of both
 * services that stay up more than once (each give-up is a crash it restarts
 * from), and at least this long: past the opted-in loss timeout below.
 */
const MIN_OUTAGE_MS = 8_000;
const RESTARTS_IN_OUTAGE = 2;
const consumerRestarts = (lines: LogLine[]) =>
  lines.filter(
    (line) => line.component === 'kafkajs' && String(line.msg).startsWith('Restarting the consumer'),
  ).length;

const readiness = async (service: ServiceProcess) => {
  const response = await fetch(`${service.url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; missing?: string[] } };
};

/**
 * Services whose broker goes away stay up, answer `/readyz` 503 naming
 * kafka, and come back by themselves once it returns: the consumers rejoin
 * and catch up with nothing lost or stored twice. A correlator that opted
 * into a loss timeout exits non-zero instead, for its orchestrator to
 * restart. The broker is the test's own: stopping the shared one would
 * break every suite running beside this one.
 */
describe('services that lose their broker', () => {
  let broker: PrivateBroker;
  let database: TestDatabase;
  let keys: TestKeys;
  let producer: Producer | undefined;
  const processes: ServiceProcess[] = [];
  const prefix = randomTopicPrefix();

  beforeAll(async () => {
    [broker, database, keys] = await Promise.all([
      createPrivateBroker(),
      createTestDatabase(),
      createTestKeys(),
    ]);
    await broker.start();
    await broker.prepare(prefix);
    const env = {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: broker.brokers,
      KAFKA_TOPIC_PREFIX: prefix,
      AUTH_JWKS_FILE: keys.jwksFile,
      DEPENDENCY_CHECK_INTERVAL_MS: '500',
      CORRELATOR_SESSION_TIMEOUT_MS: '6000',
      // After the broker's restart each consumer rejoins as a new member and waits out
      // the old one's session: the default 30 s would be most of this test's time.
      GATEWAY_SESSION_TIMEOUT_MS: '6000',
      FEED_SWEEP_MS: '200',
    };
    processes.push(
      ...(await spawnServices([
        {
          name: 'correlator',
          env: { ...env, ...broker.clientEnv('correlator') },
          label: 'correlator-keeps-running',
        },
        { name: 'gateway', env: { ...env, ...broker.clientEnv('gateway') }, label: 'gateway-keeps-running' },
        {
          name: 'correlator',
          env: { ...env, ...broker.clientEnv('correlator'), KAFKA_LOSS_TIMEOUT_MS: '4000' },
          label: 'correlator-opted-to-exit',
        },
      ])),
    );
  }, 240_000);

  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    await Promise.all(processes.map((service) => service.kill()));
    await broker?.remove();
    await database?.drop();
    await keys?.remove();
  });

  async function connectProducer(): Promise<Producer> {
    const connected = broker.client().producer({ idempotent: true, maxInFlightRequests: 1 });
    await connected.connect();
    return connected;
  }

  const stored = async () =>
    (await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM reports')).rows[0]!.n;

  it('stay up without Kafka, say so on /readyz, and catch up once it is back', async () => {
    const [correlator, gateway, optedToExit] = processes as [ServiceProcess, ServiceProcess, ServiceProcess];
    const exited = new Set<ServiceProcess>();
    for (const service of processes) void service.exited.then(() => exited.add(service));
    const pairs = reportPairs();

    producer = await connectProducer();
    const before = pairs.next(10);
    await sendReports(producer, prefix, before);
    await eventually(async () => expect(await stored()).toBe(before.length), { timeoutMs: 60_000 });
    await producer.disconnect();
    producer = undefined;

    const stoppedAt = Date.now();
    const linesAtStop = new Map(processes.map((service) => [service, service.lines.length]));
    await broker.stop();
    for (const service of [correlator, gateway]) {
      await eventually(
        async () => {
          const { status, body } = await readiness(service);
          expect(status).toBe(503);
          expect(body.status).toBe('not-ready');
          expect(body.missing).toContain('kafka');
        },
        { timeoutMs: 30_000 },
      );
    }

    // The opt-in: exit after the loss timeout, with a code naming what is missing.
    expect(await optedToExit.exited).toBe(1);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(4_000);
    const fatal = optedToExit.lines.find((line) => line.level === 'fatal');
    expect(['RENKEI_BROKER_LOST', 'RENKEI_CONSUMER_CRASHED', 'RENKEI_FEED_RELAY_FAILED']).toContain(
      fatal?.code,
    );

    for (const service of [correlator, gateway]) {
      await eventually(
        () =>
          expect(consumerRestarts(service.lines.slice(linesAtStop.get(service)))).toBeGreaterThanOrEqual(
            RESTARTS_IN_OUTAGE,
          ),
        { timeoutMs: 90_000, intervalMs: 250 },
      );
    }
    await sleep(Math.max(0, MIN_OUTAGE_MS - (Date.now() - stoppedAt)));
    console.log(`broker away for ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s`);
    expect(exited.has(correlator) || exited.has(gateway)).toBe(false);

    await broker.start();
    for (const service of [correlator, gateway]) {
      await eventually(
        async () => expect(await readiness(service)).toEqual({ status: 200, body: { status: 'ready' } }),
        {
          timeoutMs: 120_000,
          intervalMs: 500,
        },
      );
    }
    producer = await connectProducer();
    const after = pairs.next(10);
    await sendReports(producer, prefix, after);

    const all: ReportEnvelope[] = [...before, ...after];
    await eventually(() => expectStoredOnce(database.pool, all), { timeoutMs: 90_000 });
    expect(exited.has(correlator) || exited.has(gateway)).toBe(false);
    for (const service of [correlator, gateway]) {
      expect(service.lines.filter((line) => line.level === 'fatal')).toEqual([]);
    }
    expect(await correlator.stop()).toBe(0);
    expect(await gateway.stop()).toBe(0);
  });
});
