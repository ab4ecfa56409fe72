import pg from 'pg';
import type { Logger } from '@renkei/runtime';
import { isDatabaseUnavailable } from './unavailable.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Queryable = Pick<pg.Pool, 'query'>;

/**
 * Timestamps and bigints come back as strings: ISO strings travel through JSON
 * unchanged, and a bigint feed position must never be rounded by a JS number.
 * Set on the hub's pools only, never on the `pg` module for the whole process.
 */
export const HUB_TYPE_PARSERS: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.TIMESTAMPTZ) return (value: string) => new Date(value).toISOString();
    if (oid === pg.types.builtins.INT8) return (value: string) => value;
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPool(
  connectionString: string,
  options: { max?: number; logger?: Logger; applicationName?: string } = {},
): Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'renkei',
    types: HUB_TYPE_PARSERS,
    // A pool that cannot connect fails the query instead of queueing it forever.
    connectionTimeoutMillis: 5_000,
  });
  const log = options.logger?.child({ component: 'postgres-pool' });
  // An idle client that loses its connection emits here; without a listener the process would die.
  pool.on('error', (error) => log?.warn({ err: error }, 'idle PostgreSQL client failed'));
  // pg-pool removes its own listener while a client is checked out, and a client whose
  // server goes away (57P01 when a backend is terminated, a reset socket) emits `error`
  // even while a query of it is failing with the same cause: without a listener of the
  // holder's own, that event ends the process. The query's rejection is what the holder
  // acts on; the event only needs to be heard. A client that failed is not queryable
  // any more, and pg-pool drops it when it is released.
  pool.on('acquire', (client) => client.on('error', onHeldClientError));
  pool.on('release', (_error, client) => client.removeListener('error', onHeldClientError));
  function onHeldClientError(error: Error) {
    log?.warn({ err: error }, 'PostgreSQL connection of a client in use failed');
  }
  return pool;
}

export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: unknown;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failure = error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    // A connection that failed under the transaction is dropped, not handed to the next caller.
    client.release(failure !== undefined && isDatabaseUnavailable(failure) ? asError(failure) : undefined);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Creates the database named in the URL if it does not exist; safe when several processes race. */
export async function ensureDatabase(connectionString: string): Promise<void> {
  const url = new URL(connectionString);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new Error('DATABASE_URL names no database');
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount) return;
    await client.query(`CREATE DATABASE ${quoteIdentifier(database)}`);
  } catch (error) {
    // 42P04: created meanwhile by another process; 23505: the same race seen through the catalogue index.
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await client.end();
  }
}

export function quoteIdentifier(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
