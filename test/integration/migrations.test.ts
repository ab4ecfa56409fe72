import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, listMigrations, migrate, type Pool } from '@renkei/db';
import { createTestDatabase, type TestDatabase } from '@renkei/testing';

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
