import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool, ensureDatabase, migrate, quoteIdentifier, type Pool } from '@renkei/db';

export const TEST_SERVER_URL =
  process.env.RENKEI_TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** A fresh database of its own with the hub's migrations applied. */
export async function createMigratedTestDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  await migrate(database.pool);
  return database;
}

/** A fresh, empty database of its own for one suite; `drop` removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `renkei_test_${randomBytes(6).toString('hex')}`;
  const url = `${TEST_SERVER_URL}/${name}`;
  await ensureDatabase(url);
  const pool = createPool(url, { max: 4 });
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const admin = new pg.Client({ connectionString: `${TEST_SERVER_URL}/postgres` });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
