import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction, type Pool } from '@renkei/db';
import { createLogger } from '@renkei/runtime';
import type { AuditEntry } from '@renkei/schema';
import { createMigratedTestDatabase, eventually, type TestDatabase } from '@renkei/testing';
import {
  AuditChainBroken,
  auditKeyFilesIn,
  loadAuditSigner,
  purgeAuditBefore,
  readAuditExport,
  readAuditKeySet,
  recordAudit,
  recordAudits,
  sealAuditChain,
  startAuditSealer,
  verifyAuditChain,
  type AuditSigner,
  type ExportedEntry,
} from '../../src/index.js';

const entry = (n: number): AuditEntry => ({
  kind: 'report.submitted',
  actor: `user-${n}`,
  organisationId: 'acme-bank',
  object: `report-${n}`,
  outcome: 'success',
  details: { n, nested: { b: [1, 2], a: 'x' } },
});

/** Runs SQL as someone who switched the append-only triggers off: the tampering the chain must show. */
async function tamper(pool: Pool, sql: string, values: unknown[] = []): Promise<void> {
  await withTransaction(pool, async (db) => {
    await db.query('SET LOCAL session_replication_role = replica');
    await db.query(sql, values);
  });
}

/** Two sealed entries trade places, each keeping its own hash (chain_seq is unique, hence three steps). */
async function swapPlaces(pool: Pool, a: number, b: number): Promise<void> {
  await withTransaction(pool, async (db) => {
    await db.query('SET LOCAL session_replication_role = replica');
    await db.query('UPDATE audit_events SET chain_seq = -1 WHERE chain_seq = $1', [a]);
    await db.query('UPDATE audit_events SET chain_seq = $1 WHERE chain_seq = $2', [a, b]);
    await db.query('UPDATE audit_events SET chain_seq = $1 WHERE chain_seq = -1', [b]);
  });
}

async function chainRows(pool: Pool) {
  return (
    await pool.query<{ id: string; seq: string | null }>(
      'SELECT id::text AS id, chain_seq::text AS seq FROM audit_events ORDER BY chain_seq NULLS LAST, id',
    )
  ).rows;
}

describe('the audit chain on a real database', () => {
  let database: TestDatabase;
  let keyDir: string;
  let signer: AuditSigner;
  const verify = () =>
    verifyAuditChain(database.pool, {
      loadKeys: () => readAuditKeySet(auditKeyFilesIn(keyDir).publicKeySet),
      batchSize: 7,
    });

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
    keyDir = await mkdtemp(path.join(os.tmpdir(), 'renkei-audit-keys-'));
    signer = await loadAuditSigner(auditKeyFilesIn(keyDir));
  });
  afterAll(async () => {
    await database?.drop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  it('seals entries whose transactions commit out of order once each, densely, while writers go on', async () => {
    const sealer = startAuditSealer({
      pool: database.pool,
      logger: createLogger('audit-test', 'silent'),
      everyMs: 5,
      batchSize: 13,
    });
    // A transaction that takes an id first and commits last: it is sealed later, not skipped.
    const slow = await database.pool.connect();
    await slow.query('BEGIN');
    await recordAudit(slow, entry(0));
    await Promise.all(
      Array.from({ length: 20 }, (_, batch) =>
        recordAudits(
          database.pool,
          Array.from({ length: 10 }, (_, n) => entry(batch * 10 + n + 1)),
        ),
      ),
    );
    await eventually(async () =>
      expect(
        (await database.pool.query('SELECT 1 FROM audit_events WHERE chain_seq IS NOT NULL')).rowCount,
      ).toBe(200),
    );
    await slow.query('COMMIT');
    slow.release();
    await sealer.close();
    const rows = await chainRows(database.pool);
    expect(rows).toHaveLength(201);
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_, index) => String(index + 1)));
    // The smallest id, sealed last.
    expect(rows.at(-1)).toEqual({
      id: rows.map((row) => row.id).sort((a, b) => Number(a) - Number(b))[0],
      seq: '201',
    });
    const result = await verify();
    expect(result).toMatchObject({
      intact: true,
      checked: 201,
      firstSeq: '1',
      lastSeq: '201',
      problem: null,
    });
    expect(result.head.seq).toBe('201');
  });

  it('seals in the order of ids as numbers, and exports unsealed entries in that order too', async () => {
    const other = await createMigratedTestDatabase();
    try {
      // Ids 1 to 25: as text, "10" would come before "9".
      await recordAudits(
        other.pool,
        Array.from({ length: 25 }, (_, n) => entry(n)),
      );
      const unsealed: ExportedEntry[] = [];
      for await (const page of readAuditExport(other.pool, { pageSize: 4 })) unsealed.push(...page);
      expect(unsealed.map((line) => Number(line.id))).toEqual(Array.from({ length: 25 }, (_, n) => n + 1));
      expect(await sealAuditChain(other.pool, 10)).toBe(25);
      const rows = await chainRows(other.pool);
      expect(rows.map((row) => Number(row.id))).toEqual(Array.from({ length: 25 }, (_, n) => n + 1));
      expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: 25 }, (_, n) => String(n + 1)));
    } finally {
      await other.drop();
    }
  });

  it('lets sealing set the chain columns once and nothing else', async () => {
    await recordAudit(database.pool, entry(500));
    const { rows } = await database.pool.query<{ id: string }>(
      'SELECT id::text AS id FROM audit_events WHERE chain_seq IS NULL',
    );
    const id = rows[0]!.id;
    await expect(
      database.pool.query(
        `UPDATE audit_events SET chain_seq = 9999, chain_hash = repeat('a', 64), outcome = 'denied' WHERE id = $1`,
        [id],
      ),
    ).rejects.toThrow(/append-only/);
    await expect(
      database.pool.query(
        `UPDATE audit_events SET chain_seq = 1, chain_hash = repeat('a', 64) WHERE chain_seq = 1`,
      ),
    ).rejects.toThrow(/append-only/);
    await expect(database.pool.query('DELETE FROM audit_events WHERE chain_seq = 1')).rejects.toThrow(
      /append-only/,
    );
    expect(await sealAuditChain(database.pool)).toBe(1);
    expect(await sealAuditChain(database.pool)).toBe(0);
  });

  it('exports the entries of a time range in chain order, then those not sealed yet', async () => {
    await recordAudit(database.pool, entry(600));
    const pages: ExportedEntry[][] = [];
    for await (const page of readAuditExport(database.pool, { pageSize: 50 })) pages.push(page);
    const lines = pages.flat();
    expect(pages.length).toBeGreaterThan(4);
    expect(lines).toHaveLength(203);
    expect(lines.slice(0, 202).map((line) => line.chainSeq)).toEqual(
      Array.from({ length: 202 }, (_, index) => String(index + 1)),
    );
    expect(lines[202]).toMatchObject({ chainSeq: null, chainHash: null, object: 'report-600' });
    expect(lines[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const none = [];
    for await (const page of readAuditExport(database.pool, { since: '2999-01-01T00:00:00Z' }))
      none.push(page);
    expect(none).toEqual([]);
    await sealAuditChain(database.pool);
  });

  it('names an edited entry, entries that swapped places, then the gap a deleted one leaves', async () => {
    expect((await verify()).intact).toBe(true);
    const [, second, third] = await chainRows(database.pool);

    const { rows: before } = await database.pool.query<{ details: unknown }>(
      'SELECT details FROM audit_events WHERE id = $1',
      [second!.id],
    );
    await tamper(database.pool, `UPDATE audit_events SET details = '{"n": 99}' WHERE id = $1`, [second!.id]);
    expect((await verify()).problem).toEqual({ kind: 'changed', id: second!.id, seq: '2' });
    // Put back as it was, the chain holds again: the hash covers what the entry says, nothing else.
    await tamper(database.pool, 'UPDATE audit_events SET details = $2 WHERE id = $1', [
      second!.id,
      JSON.stringify(before[0]!.details),
    ]);
    expect((await verify()).intact).toBe(true);

    // Rows swapped places.
    await swapPlaces(database.pool, 10, 11);
    const swapped = await verify();
    expect(swapped.problem).toMatchObject({ kind: 'reordered', seq: '10', foundAtSeq: '11' });
    await swapPlaces(database.pool, 10, 11);
    expect((await verify()).intact).toBe(true);

    await tamper(database.pool, 'DELETE FROM audit_events WHERE id = $1', [third!.id]);
    const gap = await verify();
    expect(gap.problem).toMatchObject({ kind: 'missing', fromSeq: '3', toSeq: '3' });
    expect(gap.checked).toBe(2);
  });

  it('names the newest entries deleted behind the head, and rows forged beyond it', async () => {
    const other = await createMigratedTestDatabase();
    try {
      await recordAudits(other.pool, [entry(1), entry(2), entry(3), entry(4)]);
      await sealAuditChain(other.pool);
      const check = () =>
        verifyAuditChain(other.pool, { loadKeys: () => Promise.reject(new Error('unused')) });
      expect((await check()).intact).toBe(true);
      await tamper(other.pool, 'DELETE FROM audit_events WHERE chain_seq >= 3');
      expect((await check()).problem).toEqual({ kind: 'missing', fromSeq: '3', toSeq: '4', nextId: null });
      // The head rolled back consistently to seq 1: the entry at seq 2 lies beyond it.
      await tamper(
        other.pool,
        'UPDATE audit_chain_head SET last_seq = 1, last_hash = (SELECT chain_hash FROM audit_events WHERE chain_seq = 1)',
      );
      expect((await check()).problem).toMatchObject({ kind: 'head-mismatch', seq: '2' });
      // The head rolled back to seq 1 with its hash left as it was.
      await tamper(other.pool, `UPDATE audit_chain_head SET last_hash = repeat('b', 64)`);
      expect((await check()).problem).toMatchObject({ kind: 'head-mismatch', seq: '1' });
    } finally {
      await other.drop();
    }
  });

  it('purges a prefix behind a signed checkpoint that verify starts from, and refuses a forged one', async () => {
    const other = await createMigratedTestDatabase();
    try {
      await recordAudits(other.pool, [entry(1), entry(2), entry(3)]);
      await other.pool.query(`UPDATE audit_events SET at = at - interval '10 days'`).catch(() => undefined);
      // The trigger refuses that UPDATE; make the old entries old as the tampering role would.
      await tamper(other.pool, `UPDATE audit_events SET at = now() - interval '10 days'`);
      await recordAudits(other.pool, [entry(4), entry(5)]);
      await sealAuditChain(other.pool);
      const keys = () => readAuditKeySet(auditKeyFilesIn(keyDir).publicKeySet);
      const check = () => verifyAuditChain(other.pool, { loadKeys: keys });

      const purged = await purgeAuditBefore(other.pool, new Date(Date.now() - 86_400_000), signer, {
        batchSize: 2,
      });
      expect(purged).toMatchObject({
        removed: 3,
        checkpoint: { upToSeq: '3', removed: 3, previousUpToSeq: '0' },
      });
      expect((await chainRows(other.pool)).map((row) => row.seq)).toEqual(['4', '5']);
      const after = await check();
      expect(after).toMatchObject({ intact: true, checked: 2, firstSeq: '4', lastSeq: '5' });
      expect(after.checkpoint).toMatchObject({ upToSeq: '3', removed: 3 });
      // Nothing more is old enough: no second checkpoint.
      expect(await purgeAuditBefore(other.pool, new Date(Date.now() - 86_400_000), signer)).toEqual({
        removed: 0,
        checkpoint: null,
      });

      // A checkpoint signed with another key (say, to cover deleting entries 4 and 5) does not verify.
      const stranger = await mkdtemp(path.join(os.tmpdir(), 'renkei-audit-stranger-'));
      try {
        const forger = await loadAuditSigner(auditKeyFilesIn(stranger));
        const { rows } = await other.pool.query<{ hash: string }>(
          'SELECT chain_hash AS hash FROM audit_events WHERE chain_seq = 5',
        );
        const payload = {
          upToSeq: '5',
          chainHash: rows[0]!.hash,
          removed: 2,
          previousUpToSeq: '3',
          oldestAt: null,
          newestAt: null,
          createdAt: new Date().toISOString(),
        };
        await other.pool.query(
          `INSERT INTO audit_checkpoints (up_to_seq, chain_hash, removed, jws) VALUES (5, $1, 2, $2)`,
          [payload.chainHash, await forger.sign(payload)],
        );
        await other.pool.query('DELETE FROM audit_events WHERE chain_seq > 3');
        const forged = await check();
        expect(forged.problem).toMatchObject({ kind: 'checkpoint-invalid', upToSeq: '5' });
      } finally {
        await rm(stranger, { recursive: true, force: true });
      }
    } finally {
      await other.drop();
    }
  });

  it('refuses to purge over a chain someone broke, removing nothing', async () => {
    const other = await createMigratedTestDatabase();
    try {
      await recordAudits(other.pool, [entry(1), entry(2), entry(3)]);
      await sealAuditChain(other.pool);
      await tamper(other.pool, `UPDATE audit_events SET outcome = 'denied' WHERE chain_seq = 2`);
      await expect(
        purgeAuditBefore(other.pool, new Date(Date.now() + 60_000), signer),
      ).rejects.toBeInstanceOf(AuditChainBroken);
      expect(await chainRows(other.pool)).toHaveLength(3);
      expect((await other.pool.query('SELECT 1 FROM audit_checkpoints')).rowCount).toBe(0);
    } finally {
      await other.drop();
    }
  });
});
