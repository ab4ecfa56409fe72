import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditKeyFilesIn,
  loadAuditSigner,
  purgeAuditBefore,
  recordAudits,
  sealAuditChain,
} from '@renkei/audit';
import { AuditChainFailure, CannotVerify, runCommand } from '@renkei/cli';
import { withTransaction, type Pool } from '@renkei/db';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import type { AuditEntry } from '@renkei/schema';
import { createMigratedTestDatabase, type TestDatabase } from '@renkei/testing';

const entry = (n: number): AuditEntry => ({
  kind: 'watchlist.added',
  actor: `analyst-${n}`,
  organisationId: 'gsoc',
  object: `entry-${n}`,
  outcome: 'success',
  details: { value: `203.0.113.${n}` },
});

/** SQL run by someone who switched the append-only triggers off. */
async function tamper(pool: Pool, sql: string, values: unknown[]): Promise<void> {
  await withTransaction(pool, async (db) => {
    await db.query('SET LOCAL session_replication_role = replica');
    await db.query(sql, values);
  });
}

async function idAtSeq(pool: Pool, seq: number): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    'SELECT id::text AS id FROM audit_events WHERE chain_seq = $1',
    [seq],
  );
  return rows[0]!.id;
}

const failure = <T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
): Promise<string> =>
  promise.then(
    (output) => {
      throw new Error(`expected ${type.name}, got: ${String(output)}`);
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(type);
      return (error as Error).message;
    },
  );

describe('renkei audit verify', () => {
  let database: TestDatabase;
  let stateDir: string;
  let env: Record<string, string | undefined>;
  const verify = () => runCommand(['audit', 'verify'], env);

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'renkei-audit-cli-'));
    env = { DATABASE_URL: database.url, RENKEI_STATE_DIR: stateDir };
    await recordAudits(database.pool, [1, 2, 3, 4, 5, 6].map(entry));
    expect(await sealAuditChain(database.pool)).toBe(6);
  });
  afterAll(async () => {
    await database?.drop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('passes, then fails naming the entry after a row is edited, and the gap after one is deleted, in SQL', async () => {
    expect(await verify()).toBe(
      [
        'audit chain intact up to its head (seq 6)',
        '6 entries checked, seq 1 to 6',
        'started from the first entry (no checkpoint)',
      ].join('\n'),
    );

    const edited = await idAtSeq(database.pool, 3);
    const { rows } = await database.pool.query<{ details: unknown }>(
      'SELECT details FROM audit_events WHERE id = $1',
      [edited],
    );
    await tamper(
      database.pool,
      `UPDATE audit_events SET details = '{"value": "198.51.100.1"}' WHERE id = $1`,
      [edited],
    );
    expect(await failure(verify(), AuditChainFailure)).toBe(
      [
        `audit chain BROKEN: entry ${edited} (seq 3) was changed: its fields no longer give its chain hash`,
        '2 entries checked, seq 1 to 2 before the break',
        'started from the first entry (no checkpoint)',
      ].join('\n'),
    );
    await tamper(database.pool, 'UPDATE audit_events SET details = $2 WHERE id = $1', [
      edited,
      JSON.stringify(rows[0]!.details),
    ]);
    expect(await verify()).toMatch(/^audit chain intact/);

    const deleted = await idAtSeq(database.pool, 4);
    const next = await idAtSeq(database.pool, 5);
    await tamper(database.pool, 'DELETE FROM audit_events WHERE id = $1', [deleted]);
    const message = await failure(verify(), AuditChainFailure);
    expect(message.split('\n')[0]).toBe(
      `audit chain BROKEN: the entry at seq 4 is missing (removed); the chain resumes at entry ${next}`,
    );
  });

  it('starts from a purge checkpoint, and cannot check one without the audit key set (exit 3, not "intact")', async () => {
    const other = await createMigratedTestDatabase();
    try {
      const otherEnv = { DATABASE_URL: other.url, RENKEI_STATE_DIR: stateDir };
      await recordAudits(other.pool, [1, 2, 3].map(entry));
      await sealAuditChain(other.pool);
      await recordAudits(other.pool, [4, 5].map(entry));
      await sealAuditChain(other.pool);
      // Everything sealed so far is older than a cutoff a minute ahead.
      const signer = await loadAuditSigner(auditKeyFilesIn(stateDir));
      const purge = await purgeAuditBefore(other.pool, new Date(Date.now() + 60_000), signer);
      expect(purge.removed).toBe(5);
      await recordAudits(other.pool, [6, 7].map(entry));
      await sealAuditChain(other.pool);
      const output = await runCommand(['audit', 'verify'], otherEnv);
      expect(output).toMatch(/^audit chain intact up to its head \(seq 7\)\n2 entries checked, seq 6 to 7\n/);
      expect(output).toMatch(
        /started from checkpoint \d+: entries up to seq 5 were purged \(signature valid/,
      );

      const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'renkei-audit-nokeys-'));
      try {
        expect(
          await failure(
            runCommand(['audit', 'verify'], { ...otherEnv, RENKEI_STATE_DIR: elsewhere }),
            CannotVerify,
          ),
        ).toMatch(/audit key set could not be read/);
      } finally {
        await rm(elsewhere, { recursive: true, force: true });
      }
    } finally {
      await other.drop();
    }
  });

  it('warns of entries left unsealed, without failing', async () => {
    const other = await createMigratedTestDatabase();
    try {
      await recordAudits(other.pool, [entry(1)]);
      await tamper(other.pool, `UPDATE audit_events SET at = now() - interval '1 minute'`, []);
      const output = await runCommand(['audit', 'verify'], {
        DATABASE_URL: other.url,
        RENKEI_STATE_DIR: stateDir,
      });
      expect(output).toMatch(/^audit chain intact up to its head \(seq 0\)\n0 entries checked\n/);
      expect(output).toMatch(/\nwarning: 1 entry is not sealed yet, the oldest \d+ at .*: is a gateway/);
    } finally {
      await other.drop();
    }
  });

  it('exits 1 when broken and 3 when the database cannot be read, as the renkei command', async () => {
    const run = (databaseUrl: string) =>
      promisify(execFile)(
        path.join(REPOSITORY_ROOT, 'node_modules/.bin/tsx'),
        [path.join(REPOSITORY_ROOT, 'packages/cli/src/main.ts'), 'audit', 'verify'],
        { env: { ...process.env, DATABASE_URL: databaseUrl, RENKEI_STATE_DIR: stateDir } },
      ).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    const [broken, unreachable] = await Promise.all([
      run(database.url),
      run('postgres://postgres@127.0.0.1:1/nothing'),
    ]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^renkei: audit chain BROKEN: the entry at seq 4 is missing/);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(/^renkei: could not read the audit log/);
  });
});
