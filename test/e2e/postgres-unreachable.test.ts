import path from 'node:path';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sealer } from '@renkei/auth';
import { hubCursorSealers } from '@renkei/gateway';
import type { ReportEnvelope } from '@renkei/schema';
import {
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  openStream,
  randomTopicPrefix,
  registerOrganisations,
  sleep,
  spawnServices,
  testKafka,
  TEST_ORGANISATIONS,
  TEST_SERVER_URL,
  type ServiceProcess,
  type StreamClient,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';
import { expectStoredOnce, reportPairs, sendReports } from '../support/report-pairs.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/** How long PostgreSQL stays unreachable: many dependency checks and relay rounds. */
const OUTAGE_MS = 15_000;

const readiness = async (service: ServiceProcess) => {
  const response = await fetch(`${service.url}/readyz`);
  return { status: response.status, body: (await response.json()) as unknown };
};

/**
 * The services reach PostgreSQL through a proxy the test controls; cutting
 * it makes the database unreachable for them alone (the shared server runs
 * on). A correlator and a gateway without a loss timeout stay up, answer
 * `/readyz` 503 naming postgres, and recover by themselves; a gateway that
 * opted into a loss timeout exits with the code naming the database.
 */
describe('services whose PostgreSQL is unreachable', () => {
  let database: TestDatabase;
  let keys: TestKeys;
  let proxy: TcpProxy;
  let producer: Producer | undefined;
  let analyst: StreamClient | undefined;
  let correlator: ServiceProcess;
  let gateway: ServiceProcess;
  let exiting: ServiceProcess;
  /** The gateway's cursor sealer, to read the order of the cursors it gave out. */
  let cursors: Sealer;
  const processes: ServiceProcess[] = [];
  const prefix = randomTopicPrefix();

  beforeAll(async () => {
    [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
    await registerOrganisations(database, [TEST_ORGANISATIONS.gsoc]);
    const server = new URL(TEST_SERVER_URL);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    const viaProxy = new URL(database.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const env = {
      DATABASE_URL: viaProxy.toString(),
      KAFKA_TOPIC_PREFIX: prefix,
      AUTH_JWKS_FILE: keys.jwksFile,
      DEPENDENCY_CHECK_INTERVAL_MS: '500',
      FEED_SWEEP_MS: '200',
      GATEWAY_FEED_POLL_MS: '500',
      // The test holds the hub secret too, to open the cursors the gateway seals.
      HUB_SECRET_FILE: path.join(path.dirname(keys.jwksFile), 'hub-secret'),
    };
    cursors = (await hubCursorSealers(env.HUB_SECRET_FILE)).feed;
    [correlator, gateway, exiting] = (await spawnServices([
      { name: 'correlator', env, label: 'correlator-db-unreachable' },
      { name: 'gateway', env, label: 'gateway-db-unreachable' },
      { name: 'gateway', env: { ...env, DATABASE_LOSS_TIMEOUT_MS: '3000' }, label: 'gateway-db-loss-opt-in' },
    ])) as [ServiceProcess, ServiceProcess, ServiceProcess];
    processes.push(correlator, gateway, exiting);
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  }, 240_000);

  afterAll(async () => {
    await analyst?.close();
    await producer?.disconnect().catch(() => undefined);
    await Promise.all(processes.map((service) => service.stop()));
    await proxy?.close();
    await database?.drop();
    await keys?.remove();
    await deleteTopicsWithPrefix(prefix);
  });

  it('stay up, answer /readyz 503 naming postgres, and recover by themselves', async () => {
    const exitCodes = new Map<ServiceProcess, number | null>();
    for (const service of processes) void service.exited.then((code) => exitCodes.set(service, code));
    const pairs = reportPairs();
    await eventually(async () => {
      for (const service of [correlator, gateway]) expect((await readiness(service)).status).toBe(200);
    });
    analyst = await openStream(
      gateway.url!,
      await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] }),
    );

    const before = pairs.next(10);
    await sendReports(producer!, prefix, before);
    await eventually(
      () => expect(analyst!.frames.filter((frame) => frame.type === 'alert')).toHaveLength(before.length / 2),
      { timeoutMs: 60_000 },
    );

    await proxy.cut();
    const cutAt = Date.now();
    for (const service of [correlator, gateway]) {
      await eventually(async () =>
        expect(await readiness(service)).toEqual({
          status: 503,
          body: { status: 'not-ready', missing: ['postgres'] },
        }),
      );
    }
    // Reports keep arriving on Kafka while the database is away.
    const during = pairs.next(10);
    await sendReports(producer!, prefix, during);

    // The one that opted in exits, naming the dependency that is missing.
    expect(await exiting.exited).toBe(1);
    expect(exiting.lines.find((line) => line.level === 'fatal')?.code).toBe('RENKEI_DATABASE_LOST');

    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - cutAt)));
    expect(exitCodes.has(correlator) || exitCodes.has(gateway)).toBe(false);
    expect((await readiness(correlator)).body).toEqual({ status: 'not-ready', missing: ['postgres'] });

    await proxy.restore();
    for (const service of [correlator, gateway]) {
      await eventually(
        async () => expect(await readiness(service)).toEqual({ status: 200, body: { status: 'ready' } }),
        {
          timeoutMs: 60_000,
        },
      );
    }
    const after = pairs.next(10);
    await sendReports(producer!, prefix, after);
    const sent: ReportEnvelope[] = [...before, ...during, ...after];
    await eventually(() => expectStoredOnce(database.pool, sent), { timeoutMs: 90_000 });
    // The stream client, connected all along, got every alert once and in order.
    await eventually(
      () => expect(analyst!.frames.filter((frame) => frame.type === 'alert')).toHaveLength(sent.length / 2),
      { timeoutMs: 30_000 },
    );
    const positions = analyst.frames.flatMap((frame) =>
      frame.type === 'alert' ? [cursors.open(frame.cursor) ?? -1n] : [],
    );
    expect(positions.every((position) => position >= 0n)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    expect(new Set(positions).size).toBe(positions.length);
    expect(exitCodes.has(correlator) || exitCodes.has(gateway)).toBe(false);
    for (const service of [correlator, gateway]) {
      expect(service.lines.filter((line) => line.level === 'fatal')).toEqual([]);
    }
  });
});
