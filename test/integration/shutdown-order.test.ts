import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorrelatorConfig, startCorrelator } from '@renkei/correlator';
import { loadGatewayConfig, startGateway } from '@renkei/gateway';
import { loadIngestConfig, startIngest } from '@renkei/ingest';
import { createLogger } from '@renkei/runtime';
import {
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  openStream,
  randomTopicPrefix,
  registerOrganisations,
  TEST_ORGANISATIONS,
  recordLifecycle,
  type TestDatabase,
  type TestKeys,
  sharedKafkaEnv,
} from '@renkei/testing';

/**
 * Each service started in this process, then closed while the steps of its
 * shutdown are recorded from the lifecycle channel: readiness fails first,
 * then the listener closes, WebSocket viewers are told to reconnect, open
 * requests finish, and only then Kafka and PostgreSQL are released.
 */
describe('ordered shutdown', () => {
  const logger = createLogger('shutdown-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let env: Record<string, string>;

  beforeAll(async () => {
    [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
    await registerOrganisations(database, [TEST_ORGANISATIONS.gsoc]);
    env = {
      DATABASE_URL: database.url,
      ...(await sharedKafkaEnv(randomTopicPrefix())),
      AUTH_JWKS_FILE: keys.jwksFile,
      INGEST_PORT: '0',
      GATEWAY_PORT: '0',
      CORRELATOR_PORT: '0',
      CORRELATOR_SESSION_TIMEOUT_MS: '6000',
    };
  });

  afterAll(async () => {
    await database?.drop();
    await keys?.remove();
    if (env) await deleteTopicsWithPrefix(env.KAFKA_TOPIC_PREFIX!);
  });

  it('ingest: draining, stop accepting, HTTP, Kafka, PostgreSQL', async () => {
    const ingest = await startIngest(loadIngestConfig(env), logger);
    const recorder = recordLifecycle('ingest');
    await ingest.close();
    recorder.stop();
    expect(recorder.steps).toEqual(['draining', 'stop-accepting', 'http-server', 'kafka', 'postgres']);
    await expect(ingest.done).resolves.toBeUndefined();
  });

  it('gateway: draining, stop accepting, viewers told to reconnect, HTTP, Kafka, PostgreSQL', async () => {
    const gateway = await startGateway(loadGatewayConfig(env), logger);
    const viewer = await openStream(
      gateway.url,
      await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] }),
    );
    await viewer.next((frame) => frame.type === 'welcome');
    const recorder = recordLifecycle('gateway');
    let stepsWhenViewerClosed: string[] = [];
    void viewer.closed.then(() => (stepsWhenViewerClosed = [...recorder.steps]));
    await gateway.close();
    recorder.stop();

    expect(recorder.steps).toEqual([
      'draining',
      'stop-accepting',
      'websocket-clients',
      'http-server',
      // No inject is sent once the gateway no longer serves: the scheduler stops before Kafka and PostgreSQL.
      'exercise-scheduler',
      'kafka-consumer',
      'delivery',
      'feed-relay',
      'kafka',
      'postgres',
    ]);
    expect(await viewer.closed).toEqual({ code: 1001, reason: 'gateway restarting: reconnect' });
    // The viewer heard "reconnect" only once the gateway was no longer ready nor accepting.
    expect(stepsWhenViewerClosed.slice(0, 3)).toEqual(['draining', 'stop-accepting', 'websocket-clients']);
    await expect(gateway.done).resolves.toBeUndefined();
  });

  it('correlator: draining, health port, consumer, retention purge, watchlist backfill, feed relay, Kafka, PostgreSQL', async () => {
    const correlator = await startCorrelator(loadCorrelatorConfig(env), logger);
    const ready = await fetch(`${correlator.url}/readyz`);
    expect([200, 503]).toContain(ready.status);
    const recorder = recordLifecycle('correlator');
    await correlator.close();
    recorder.stop();
    expect(recorder.steps).toEqual([
      'draining',
      'stop-accepting',
      'http-server',
      'kafka-consumer',
      // The purge stops before the relay, Kafka and PostgreSQL it uses.
      'retention',
      'watchlist-backfill',
      'feed-relay',
      'kafka',
      'postgres',
    ]);
    await expect(correlator.done).resolves.toBeUndefined();
  });
});
