import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '@renkei/db';
import type { ReportEnvelope } from '@renkei/schema';
import { createMigratedTestDatabase, type TestDatabase } from '@renkei/testing';
import { acceptSubmissions, claimSubmissions, lockLedgerRows } from '../../src/queries/submissions.js';

/**
 * The request path marks a batch accepted while the ledger catch-up may hold
 * the same rows (it read them from the topic). Both must take the rows' locks
 * in one order, or each waits for the other until PostgreSQL's deadlock
 * detector kills one (40P01) a second later.
 */
describe('the ledger rows both paths lock', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  const envelope = (id: string) =>
    ({
      id,
      organisationId: 'mlit-csirt',
      sector: 'central-government',
      submittedBy: 'reporter@mlit-csirt',
      contentSha256: 'a'.repeat(64),
      receivedAt: new Date().toISOString(),
      report: { tlp: 'GREEN', exercise: false },
    }) as unknown as ReportEnvelope;

  it('never deadlocks: acceptance and catch-up take the rows in id order', async () => {
    const failures: unknown[] = [];
    for (let round = 0; round < 15; round += 1) {
      // Random ids: the heap keeps them in insertion order, which is not id order.
      const batch = Array.from({ length: 120 }, () => envelope(randomUUID()));
      await claimSubmissions(
        database.pool,
        batch.map((e) => JSON.stringify(e)),
      );
      const ids = batch.map((e) => e.id);
      const catchUp = withTransaction(database.pool, async (db) => {
        await lockLedgerRows(db, ids);
        await new Promise((resolve) => setTimeout(resolve, 20));
      });
      const accepted = acceptSubmissions(database.pool, batch);
      const results = await Promise.allSettled([catchUp, accepted]);
      failures.push(...results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])));
    }
    expect(failures.map((error) => (error as { code?: string }).code ?? String(error))).toEqual([]);
  });
});
