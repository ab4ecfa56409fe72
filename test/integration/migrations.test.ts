import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPool,
  isDatabaseUnavailable,
  listMigrations,
  migrate,
  openMigratedPool,
  type Pool,
} from '@renkei/db';
import { createTestDatabase, sleep, TEST_SERVER_URL, type TestDatabase } from '@renkei/testing';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

describe('migrate on a real database', () => {
  let database: TestDatabase;
  const pools: Pool[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    await database.drop();
  });

  it('applies every migration once when several processes start together', async () => {
    for (let i = 0; i < 5; i += 1) pools.push(createPool(database.url, { max: 1 }));
    const applied = await Promise.all(pools.map((pool) => migrate(pool)));
    const expected = (await listMigrations()).map((migration) => migration.version);

    // Exactly one runner applied them; the others waited on the lock and found nothing to do.
    expect(applied.filter((versions) => versions.length > 0)).toEqual([expected]);
    const recorded = await database.pool.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY 1',
    );
    expect(recorded.rows.map((row) => row.version)).toEqual(expected);
    const tables = await database.pool.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(tables.rows.map((row) => row.name)).toEqual(
      expect.arrayContaining([
        'alert_versions',
        'alerts',
        'report_indicators',
        'report_submissions',
        'reports',
      ]),
    );
  });

  it('does nothing the second time', async () => {
    expect(await migrate(database.pool)).toEqual([]);
  });
});

/**
 * A service starting while PostgreSQL is away (restarting, or out of
 * connections when many processes start together) waits for it as a running
 * service would, instead of exiting before anything could restart it.
 */
describe('opening the hub database while PostgreSQL is away', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let viaProxy: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const server = new URL(TEST_SERVER_URL);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    const url = new URL(database.url);
    url.host = `127.0.0.1:${proxy.port}`;
    viaProxy = url.toString();
  });

  afterAll(async () => {
    await proxy.close();
    await database.drop();
  });

  it('waits for it to come back, then opens a migrated pool', async () => {
    await proxy.cut();
    const opening = openMigratedPool(viaProxy, { max: 1 });
    let settled = false;
    void opening.then(
      () => (settled = true),
      () => (settled = true),
    );
    await sleep(1_500);
    expect(settled, 'still waiting while PostgreSQL is unreachable').toBe(false);
    await proxy.restore();
    const pool = await opening;
    try {
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM schema_migrations');
      expect(Number(rows[0]!.n)).toBe((await listMigrations()).length);
    } finally {
      await pool.end();
    }
  });

  it('gives up after the loss timeout a service opted into', async () => {
    await proxy.cut();
    try {
      const started = Date.now();
      const failure = await openMigratedPool(viaProxy, { max: 1, lossTimeoutMs: 1_000 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isDatabaseUnavailable(failure), String(failure)).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    } finally {
      await proxy.restore();
    }
  });

  it('fails at once on what waiting cannot mend', async () => {
    const url = new URL(database.url);
    url.username = 'renkei_no_such_role';
    const failure = await openMigratedPool(url.toString(), { max: 1 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(isDatabaseUnavailable(failure)).toBe(false);
  });
});
