import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@renkei/runtime';
import type { ReportEnvelope, ReportSubmission } from '@renkei/schema';
import {
  createMigratedTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  readWholeTopic,
  registerOrganisations,
  TEST_ORGANISATIONS,
  TEST_SERVER_URL,
  testKafka,
  type TestDatabase,
  type TestKeys,
  sharedKafkaEnv,
} from '@renkei/testing';
import { loadIngestConfig } from '../../src/config.js';
import { startLedgerCatchUp } from '../../src/ledger-catch-up.js';
import { startIngest, type RunningIngest } from '../../src/service.js';
import { UnledgeredReports } from '../../src/unledgered.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/**
 * Ingest started in this process with its PostgreSQL behind a TCP proxy the
 * suite controls, so the database can be made unreachable for this ingest
 * alone (the shared server keeps running): reports are answered 202 on
 * Kafka's acknowledgement, and the ledger catches up from the topic when the
 * database is back.
 */
describe('ingest through a database outage', () => {
  const logger = createLogger('ingest-outage-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let proxy: TcpProxy;
  let prefix: string;
  let ingest: RunningIngest;
  let stopped: unknown;
  let reporter: string;
  const { mlitCsirt, financeCeptar, gsoc } = TEST_ORGANISATIONS;

  beforeAll(async () => {
    [database, keys] = await Promise.all([createMigratedTestDatabase(), createTestKeys()]);
    await registerOrganisations(database, [mlitCsirt, financeCeptar, gsoc]);
    const server = new URL(TEST_SERVER_URL);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    prefix = randomTopicPrefix();
    ingest = await startIngest(
      loadIngestConfig({
        DATABASE_URL: proxy.url(new URL(database.url).pathname.slice(1)),
        DATABASE_POOL_SIZE: '4',
        ...(await sharedKafkaEnv(prefix)),
        AUTH_JWKS_FILE: keys.jwksFile,
        INGEST_PORT: '0',
        DEPENDENCY_CHECK_INTERVAL_MS: '250',
        // Shorter than the outage below: losing PostgreSQL must not stop ingest.
        DATABASE_LOSS_TIMEOUT_MS: '1000',
        REGISTRY_POLL_MS: '500',
        INGEST_LEDGER_TIMEOUT_MS: '1000',
        INGEST_LEDGER_RETRY_MS: '500',
      }),
      logger,
    );
    ingest.done.catch((error: unknown) => (stopped = error));
    reporter = await keys.token({ org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] });
  });

  // Whatever a test left cut, the next one starts with the database reachable.
  afterEach(() => proxy?.restore());

  afterAll(async () => {
    await ingest?.close();
    await proxy?.close();
    await database?.drop();
    await keys?.remove();
    if (prefix) await deleteTopicsWithPrefix(prefix);
  });

  const report = (overrides: Partial<ReportSubmission> = {}): ReportSubmission => ({
    id: randomUUID(),
    title: 'Phishing wave against procurement',
    category: 'phishing',
    severity: 'high',
    tlp: 'GREEN',
    detectedAt: '2026-11-28T09:00:00+09:00',
    indicators: [{ type: 'domain', value: 'evil.example' }],
    ...overrides,
  });

  const post = (body: unknown) =>
    fetch(`${ingest.url}/v1/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reporter}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const read = (id: string) =>
    fetch(`${ingest.url}/v1/reports/${id}`, { headers: { authorization: `Bearer ${reporter}` } });

  /** Ledger rows as the database holds them, read directly (not through the proxy). */
  const ledger = async (ids: readonly string[]) =>
    (
      await database.pool.query<{ id: string; state: string; content_sha256: string; title: string }>(
        `SELECT id, state, content_sha256, envelope->'report'->>'title' AS title
           FROM report_submissions WHERE id = ANY($1::uuid[])`,
        [ids],
      )
    ).rows;

  /** How many times each id was audited with this kind. */
  const audits = async (kind: string, ids: readonly string[]) => {
    const { rows } = await database.pool.query<{ object: string; n: number; organisation_id: string }>(
      `SELECT object, organisation_id, count(*)::int AS n FROM audit_events
        WHERE kind = $1 AND object = ANY($2::text[]) GROUP BY object, organisation_id`,
      [kind, ids],
    );
    return rows;
  };

  const topic = () => `${prefix}renkei.reports.v1`;

  it('answers 202 while PostgreSQL is unreachable, then writes each report to the ledger once, accepted and audited once', async () => {
    const before = report();
    expect((await post(before)).status).toBe(202);

    proxy.cut();
    const outage = Array.from({ length: 60 }, () => report());
    for (let wave = 0; wave < 3; wave += 1) {
      const answers = await Promise.all(outage.slice(wave * 20, wave * 20 + 20).map((body) => post(body)));
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 202));
    }
    // A retry is answered again without a second message; another body for a
    // report this process accepted without the ledger is a 409 at once.
    expect((await post(outage[0])).status).toBe(202);
    const changed = await post({ ...outage[1], title: 'Another title' });
    expect(changed.status).toBe(409);
    // Another body for a report accepted before the outage: nothing here can
    // tell, so it is answered 202 and the catch-up finds the conflict.
    expect((await post({ ...before, title: 'Changed during the outage' })).status).toBe(202);

    // Reads need the ledger: not acknowledged, retry.
    const unreadable = await read(outage[2]!.id!);
    expect(unreadable.status).toBe(503);
    expect(unreadable.headers.get('retry-after')).toBe('1');
    // Still ready: it takes reports.
    expect((await fetch(`${ingest.url}/readyz`)).status).toBe(200);

    const ids = outage.map((body) => body.id!);
    expect(await ledger(ids)).toEqual([]);
    const messages = await readWholeTopic<ReportEnvelope>(topic());
    for (const id of ids) expect(messages.filter((message) => message.id === id)).toHaveLength(1);
    expect(messages.filter((message) => message.id === before.id)).toHaveLength(2);

    proxy.restore();
    const back = performance.now();
    await eventually(
      async () => {
        const rows = await ledger(ids);
        expect(rows.filter((row) => row.state === 'accepted')).toHaveLength(ids.length);
      },
      { timeoutMs: 30_000 },
    );
    const caughtUpMs = performance.now() - back;
    logger.info({ caughtUpMs }, 'ledger caught up');
    console.info(`ledger caught up ${Math.round(caughtUpMs)} ms after the database returned`);
    expect(caughtUpMs).toBeLessThan(10_000);

    const submitted = await audits('report.submitted', [...ids, before.id!]);
    expect(submitted).toHaveLength(ids.length + 1);
    for (const row of submitted) expect(row).toMatchObject({ n: 1, organisation_id: 'mlit-csirt' });

    // The body the topic carried first stays; the other is reported to its organisation.
    expect((await ledger([before.id!]))[0]).toMatchObject({ title: before.title, state: 'accepted' });
    await eventually(async () =>
      expect(await audits('report.conflicted', [before.id!])).toEqual([
        { object: before.id, organisation_id: 'mlit-csirt', n: 1 },
      ]),
    );

    const shown = await read(outage[2]!.id!);
    expect(shown.status).toBe(200);
    expect(await shown.json()).toMatchObject({
      id: outage[2]!.id,
      status: 'accepted',
      organisationId: 'mlit-csirt',
    });
    expect(stopped).toBeUndefined();

    // The topic read again from its start (a new group; as after a crash
    // before offsets were committed) changes nothing and audits nothing again.
    const groupId = `${prefix}replay-${randomUUID()}`;
    const replay = await startLedgerCatchUp({
      kafka: testKafka({ clientId: 'replay', logger }),
      topic: topic(),
      groupId,
      pool: database.pool,
      unledgered: new UnledgeredReports(),
      logger,
      onCrash: (error) => {
        throw error;
      },
    });
    try {
      await waitUntilConsumed(groupId, topic());
    } finally {
      await replay.close();
    }
    expect(await audits('report.submitted', [...ids, before.id!])).toHaveLength(ids.length + 1);
    for (const row of await audits('report.submitted', [...ids, before.id!])) expect(row.n).toBe(1);
    expect(await audits('report.conflicted', [before.id!])).toEqual([
      { object: before.id, organisation_id: 'mlit-csirt', n: 1 },
    ]);
  });

  it('marks accepted a report whose ledger update failed after Kafka acknowledged it, audited once', async () => {
    // The connection carrying the acceptance is reset before the statement
    // reaches PostgreSQL: the row stays pending, the client has its 202.
    const cut = proxy.cutWhen("SET state = 'accepted', accepted_at = now()");
    const body = report();
    expect((await post(body)).status).toBe(202);
    await cut;

    await eventually(
      async () => expect(await ledger([body.id!])).toEqual([expect.objectContaining({ state: 'accepted' })]),
      { timeoutMs: 10_000 },
    );
    expect(await audits('report.submitted', [body.id!])).toEqual([
      { object: body.id, organisation_id: 'mlit-csirt', n: 1 },
    ]);
    expect((await read(body.id!)).status).toBe(200);
    const messages = await readWholeTopic<ReportEnvelope>(topic());
    expect(messages.filter((message) => message.id === body.id)).toHaveLength(1);
  });
});

/** Until the group has committed every partition up to its end. */
async function waitUntilConsumed(groupId: string, topic: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    await eventually(
      async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        for (const end of ends) {
          if (end.high === '0') continue;
          const at = committed!.partitions.find((p) => p.partition === end.partition);
          expect(Number(at?.offset ?? -1)).toBe(Number(end.high));
        }
      },
      { timeoutMs: 30_000 },
    );
  } finally {
    await admin.disconnect();
  }
}
