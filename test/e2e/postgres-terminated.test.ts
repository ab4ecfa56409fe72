import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '@renkei/db';
import type { ReportEnvelope } from '@renkei/schema';
import {
  createTestDatabase,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  sleep,
  spawnService,
  testKafka,
  type ServiceProcess,
  type TestDatabase,
} from '@renkei/testing';
import { expectStoredOnce, reportPairs, sendReports } from '../support/report-pairs.js';

const PAIRS = 300;
const MAX_PAIRS = 1_500;
const BURST = 10;

/**
 * PostgreSQL ends a backend (an administrator's `pg_terminate_backend`, a
 * failover, a postmaster restart: 57P01) while the correlator holds it in a
 * chunk's transaction. The same process must live on: the chunk is retried,
 * nothing of it was committed, and in the end every report is stored once
 * and every alert raised once. On the old code the client held through
 * `withTransaction` had no `error` listener and the process died.
 */
describe('a correlator whose PostgreSQL connections are terminated mid-chunk', () => {
  let database: TestDatabase;
  let killer: Pool;
  let producer: Producer | undefined;
  let correlator: ServiceProcess;
  const prefix = randomTopicPrefix();

  beforeAll(async () => {
    database = await createTestDatabase();
    correlator = await spawnService(
      'correlator',
      {
        DATABASE_URL: database.url,
        KAFKA_TOPIC_PREFIX: prefix,
        FEED_SWEEP_MS: '200',
        DEPENDENCY_CHECK_INTERVAL_MS: '500',
        // Small chunks: more transactions to be caught in.
        CORRELATOR_BATCH_SIZE: '20',
      },
      { label: 'correlator-terminated' },
    );
    // The killer's own connection is never among those it terminates.
    killer = createPool(database.url, { max: 1, applicationName: 'renkei-test-killer' });
    producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    await killer?.end().catch(() => undefined);
    await correlator?.stop();
    await database?.drop();
    await deleteTopicsWithPrefix(prefix);
  });

  const stored = async () =>
    (await killer.query<{ n: number }>('SELECT count(*)::int AS n FROM reports')).rows[0]!.n;

  it('lives on, retries the chunk and stores every report once', async () => {
    let exitCode: number | null | undefined;
    void correlator.exited.then((code) => (exitCode = code));
    const pairs = reportPairs();
    const sent: ReportEnvelope[] = [];

    let terminating = true;
    const terminated = { all: 0, inTransaction: 0 };
    // Every backend of the correlator, over and over; most often those inside a transaction.
    const terminate = async () => {
      for (let round = 0; terminating; round += 1) {
        const { rows } = await killer.query<{ in_transaction: boolean; ok: boolean }>(
          `SELECT (state = 'idle in transaction' OR (state = 'active' AND query_start > xact_start)) AS in_transaction,
                  pg_terminate_backend(pid) AS ok
             FROM pg_stat_activity
            WHERE datname = current_database()
              AND pid <> pg_backend_pid()
              AND application_name <> 'renkei-test-killer'
              AND backend_type = 'client backend'
              AND ($1 OR state = 'idle in transaction' OR (state = 'active' AND query_start > xact_start))`,
          [round % 10 === 0],
        );
        terminated.all += rows.filter((row) => row.ok).length;
        terminated.inTransaction += rows.filter((row) => row.ok && row.in_transaction).length;
        await sleep(20);
      }
    };
    const terminating$ = terminate();

    // Reports keep flowing until chunks in flight have met a termination several times.
    for (
      let sentPairs = 0;
      exitCode === undefined &&
      (sentPairs < PAIRS || (terminated.inTransaction < 5 && sentPairs < MAX_PAIRS));
    ) {
      const burst = pairs.next(BURST);
      await sendReports(producer!, prefix, burst);
      sent.push(...burst);
      sentPairs += BURST;
      await sleep(100);
    }
    terminating = false;
    await terminating$;
    expect(exitCode, `the correlator exited (see ${correlator.logFile})`).toBeUndefined();
    expect(terminated.inTransaction).toBeGreaterThanOrEqual(5);

    await eventually(async () => expect(await stored()).toBe(sent.length), { timeoutMs: 120_000 });
    await eventually(() => expectStoredOnce(killer, sent), { timeoutMs: 30_000 });

    // The same process, never restarted, and ready again.
    expect(exitCode).toBeUndefined();
    expect(correlator.lines.filter((line) => line.level === 'fatal')).toEqual([]);
    await eventually(async () => {
      const response = await fetch(`${correlator.url}/readyz`);
      expect(response.status).toBe(200);
    });
    // Chunks did fail under it, and were retried rather than dead-lettered.
    expect(correlator.lines.some((line) => line.msg === 'PostgreSQL unavailable: retrying')).toBe(true);
    expect(correlator.lines.filter((line) => /dead-letter/.test(String(line.msg)))).toEqual([]);
  });
});
