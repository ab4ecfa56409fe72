import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportEnvelope } from '@renkei/schema';
import {
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  randomTopicPrefix,
  registerOrganisations,
  TEST_ORGANISATIONS,
  spawnService,
  readWholeTopic,
  waitUntilReady,
  type ServiceProcess,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';

/** A 2xx means the report is in Kafka, even when the answer was given while ingest was shutting down. */
describe('ingest stopped with SIGTERM while reports arrive', () => {
  let database: TestDatabase;
  let keys: TestKeys;
  let prefix: string;
  let ingest: ServiceProcess;

  beforeAll(async () => {
    [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
    await registerOrganisations(database, [TEST_ORGANISATIONS.soumuCsirt]);
    prefix = randomTopicPrefix();
    ingest = await spawnService('ingest', {
      DATABASE_URL: database.url,
      KAFKA_TOPIC_PREFIX: prefix,
      AUTH_JWKS_FILE: keys.jwksFile,
    });
    await waitUntilReady(ingest.url!);
  });

  afterAll(async () => {
    await ingest?.stop();
    await database?.drop();
    await keys?.remove();
    await deleteTopicsWithPrefix(prefix);
  });

  it('drains: every report it accepted is on the reports topic, and it exits 0', async () => {
    const token = await keys.token({ org: 'soumu-csirt', sector: 'central-government', roles: ['reporter'] });
    const post = (i: number) =>
      fetch(`${ingest.url}/v1/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          title: `Outage report ${i}`,
          category: 'service-outage',
          severity: 'low',
          tlp: 'CLEAR',
          detectedAt: '2026-11-28T00:00:00Z',
          indicators: [{ type: 'ipv4', value: `192.0.2.${i}` }],
        }),
      }).then(
        async (response) => ({ status: response.status, body: (await response.json()) as { id?: string } }),
        () => ({ status: 0, body: {} as { id?: string } }),
      );

    const inFlight = Array.from({ length: 40 }, (_, i) => post(i));
    const [first] = await Promise.all(inFlight.slice(0, 5));
    expect(first!.status).toBe(202);
    const stopping = Date.now();
    const exitCode = ingest.stop();
    const answers = await Promise.all(inFlight);
    expect(await exitCode).toBe(0);
    // Liveness, not speed: keep-alive sockets must not hold the close until the 10 s grace cuts them.
    expect(Date.now() - stopping).toBeLessThan(8_000);

    // Refused (0: connection closed, 503: draining) is fine; anything else is a fault.
    expect(answers.every((answer) => [0, 202, 503].includes(answer.status))).toBe(true);
    const accepted = answers.filter((answer) => answer.status === 202).map((answer) => answer.body.id!);
    expect(accepted.length).toBeGreaterThanOrEqual(5);

    const onTopic = (await readWholeTopic<ReportEnvelope>(`${prefix}renkei.reports.v1`)).map(
      (envelope) => envelope.id,
    );
    for (const id of accepted) expect(onTopic).toContain(id);
  });
});
