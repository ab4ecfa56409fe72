import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestCertificate,
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  registerOrganisations,
  spawnService,
  startWebhookReceiver,
  TEST_ORGANISATIONS,
  waitUntilReady,
  type ServiceProcess,
  type TestCertificate,
  type TestDatabase,
  type TestKeys,
  type WebhookReceiver,
} from '@renkei/testing';

/**
 * The gateway delivering a webhook is killed (SIGKILL) while the delivery is
 * being retried and another waits behind it. A new gateway goes on from what
 * PostgreSQL holds: both arrive, in order, the first with the delivery id it
 * had before the crash; nothing is lost.
 */
describe('the delivering gateway killed mid-retry', () => {
  let database: TestDatabase;
  let keys: TestKeys;
  let certificate: TestCertificate;
  let receiver: WebhookReceiver;
  let env: Record<string, string>;
  const gateways: ServiceProcess[] = [];

  beforeAll(async () => {
    [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
    await registerOrganisations(database, [
      TEST_ORGANISATIONS.gsoc,
      TEST_ORGANISATIONS.financeCeptar,
      TEST_ORGANISATIONS.acmeBank,
    ]);
    certificate = createTestCertificate();
    receiver = await startWebhookReceiver(certificate);
    env = {
      DATABASE_URL: database.url,
      KAFKA_TOPIC_PREFIX: randomTopicPrefix(),
      AUTH_JWKS_FILE: keys.jwksFile,
      DELIVERY_ALLOWED_HOSTS: 'localhost',
      DELIVERY_CA_FILE: certificate.certFile,
      DELIVERY_POLL_MS: '100',
      // Slow enough retries that the kill lands between two attempts.
      DELIVERY_RETRY_BASE_MS: '400',
      DELIVERY_RETRY_CAP_MS: '800',
    };
  });

  afterAll(async () => {
    for (const gateway of gateways) await gateway.kill().catch(() => undefined);
    await receiver?.close();
    certificate?.remove();
    await database?.drop();
    await keys?.remove();
    if (env) await deleteTopicsWithPrefix(env.KAFKA_TOPIC_PREFIX!);
  });

  const start = async (label: string) => {
    const gateway = await spawnService('gateway', env, { label });
    gateways.push(gateway);
    await waitUntilReady(gateway.url!);
    return gateway;
  };

  const call = async (gateway: ServiceProcess, url: string, token: string, body: unknown) => {
    const response = await fetch(`${gateway.url}${url}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { id: string };
  };

  it('loses nothing and keeps the delivery id', async () => {
    const analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    const ceptar = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
    const first = await start('gateway-delivering');
    const endpoint = await call(first, '/v1/deliveries', ceptar, {
      channel: 'webhook',
      url: `${receiver.url}/crash`,
    });
    // Refused until the test says otherwise, so the kill surely lands mid-retry.
    receiver.failNext('/crash', 1_000, 500);
    const warning = (title: string) => ({
      title,
      body: 'x',
      severity: 'high',
      tlp: 'GREEN',
      sectors: ['finance'],
    });
    const retried = await call(first, '/v1/warnings', analyst, warning('retried across a crash'));
    await eventually(() => expect(receiver.received('/crash').length).toBeGreaterThanOrEqual(1));
    const queued = await call(first, '/v1/warnings', analyst, warning('queued behind it'));
    // Both are planned (stored) before the kill; the second waits behind the first.
    await eventually(async () => {
      const { rows } = await database.pool.query<{ state: string }>(
        'SELECT state FROM deliveries WHERE endpoint_id = $1 ORDER BY seq',
        [endpoint.id],
      );
      expect(rows.map((row) => row.state)).toEqual(['pending', 'pending']);
    });
    await first.kill();
    const beforeRestart = receiver.received('/crash').length;

    await start('gateway-after-crash');
    // The new gateway takes the retry up where the killed one left it, then the receiver recovers.
    await eventually(() => expect(receiver.received('/crash').length).toBeGreaterThan(beforeRestart));
    receiver.failNext('/crash', 0);
    const received = await eventually(
      () => {
        const got = receiver.received('/crash');
        expect(got.map((r) => JSON.parse(r.body).warning.id).at(-1)).toBe(queued.id);
        return got;
      },
      { timeoutMs: 60_000 },
    );
    expect(received.length).toBeGreaterThan(beforeRestart);
    const ids = received.map((r) => ({
      warning: JSON.parse(r.body).warning.id,
      delivery: r.headers['renkei-delivery'],
    }));
    const retriedIds = ids.filter((r) => r.warning === retried.id);
    // At least once: every attempt of the first warning, before and after the crash, carries one delivery id.
    expect(retriedIds.length).toBeGreaterThanOrEqual(beforeRestart + 2);
    expect(new Set(retriedIds.map((r) => r.delivery)).size).toBe(1);
    // In order: the queued one only after the retried one was taken, and once.
    expect(ids.at(-1)!.warning).toBe(queued.id);
    expect(ids.filter((r) => r.warning === queued.id)).toHaveLength(1);
    // The receiver has the body before the gateway records its answer: wait for the record.
    const rows = await eventually(async () => {
      const { rows: found } = await database.pool.query<{ state: string; attempts: number }>(
        'SELECT state, attempts FROM deliveries WHERE endpoint_id = $1 ORDER BY seq',
        [endpoint.id],
      );
      expect(found).toEqual([
        { state: 'delivered', attempts: expect.any(Number) },
        { state: 'delivered', attempts: 1 },
      ]);
      return found;
    });
    expect(rows[0]!.attempts).toBeGreaterThanOrEqual(3);
    const attempts = await database.pool.query<{ attempt: number; ok: boolean; status_code: number }>(
      `SELECT a.attempt, a.ok, a.status_code FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
        WHERE d.endpoint_id = $1 AND d.subject_id = $2 ORDER BY a.attempt`,
      [endpoint.id, retried.id],
    );
    // The log: refusals numbered on from before the crash, the last one taken.
    expect(attempts.rows.at(-1)).toEqual({ attempt: rows[0]!.attempts, ok: true, status_code: 204 });
    expect(attempts.rows.slice(0, -1).every((a) => !a.ok && a.status_code === 500)).toBe(true);
  });

  it('gives a delivery up after the retry period, marks it failed, and sends the next one', async () => {
    for (const gateway of gateways.splice(0)) await gateway.kill();
    env = {
      ...env,
      DELIVERY_RETRY_BASE_MS: '100',
      DELIVERY_RETRY_CAP_MS: '200',
      DELIVERY_RETRY_FOR_MS: '1500',
    };
    const analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    // Another organisation than the first test's, whose endpoint still takes finance warnings.
    const member = await keys.token({ org: 'acme-bank', sector: 'finance', roles: ['reporter'] });
    const gateway = await start('gateway-giving-up');
    const endpoint = await call(gateway, '/v1/deliveries', member, {
      channel: 'webhook',
      url: `${receiver.url}/dead`,
    });
    receiver.failNext('/dead', 1_000, 500);
    const warning = (title: string) => ({
      title,
      body: 'x',
      severity: 'high',
      tlp: 'GREEN',
      sectors: ['finance'],
    });
    const lost = await call(gateway, '/v1/warnings', analyst, warning('never taken'));
    const next = await call(gateway, '/v1/warnings', analyst, warning('taken after the first gave up'));
    await eventually(async () => {
      const response = await fetch(`${gateway.url}/v1/warnings/${lost.id}`, {
        headers: { authorization: `Bearer ${analyst}` },
      });
      const body = (await response.json()) as {
        receipts: { organisationId: string; delivered: unknown; failing: boolean }[];
      };
      expect(body.receipts.find((r) => r.organisationId === 'acme-bank')).toEqual(
        expect.objectContaining({ delivered: null, failing: true }),
      );
      const { rows } = await database.pool.query<{ state: string }>(
        'SELECT state FROM deliveries WHERE endpoint_id = $1 ORDER BY seq',
        [endpoint.id],
      );
      expect(rows[0]?.state).toBe('failed');
    });
    receiver.failNext('/dead', 0);
    await eventually(() =>
      expect(
        receiver
          .received('/dead')
          .map((r) => JSON.parse(r.body).warning.id)
          .at(-1),
      ).toBe(next.id),
    );
    const requests = receiver.received('/dead');
    // Retried more than once within the period, never after it.
    expect(requests.filter((r) => JSON.parse(r.body).warning.id === lost.id).length).toBeGreaterThanOrEqual(
      2,
    );
    const metrics = await (await fetch(`${gateway.metricsUrl}/metrics`)).text();
    expect(metrics).toContain(`renkei_delivery_failed_total{endpoint="${endpoint.id}",service="gateway"} 1`);
  });
});
