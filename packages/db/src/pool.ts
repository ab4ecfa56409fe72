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
    if (oid === pg.types.builtins.TIMESTAMPTZ) return isoTimestamp;
    if (oid === pg.types.builtins.INT8) return (value: string) => value;
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * A timestamptz as PostgreSQL sends it, in `toISOString` form. A session in
 * UTC sends `2026-10-01 12:34:56.789123+00`, which is rearranged as text;
 * anything else (another time zone, a year before 1000 or past 9999, infinity) goes through
 * `Date`, as every value used to. The correlator reads two per sighting row,
 * tens of thousands per chunk, and `Date` parsing was most of reading them.
 * `Date` keeps milliseconds and drops the rest; so does this.
 */
export function isoTimestamp(value: string): string {
  const length = value.length;
  if (
    length >= 22 &&
    value.charCodeAt(4) === 45 /* - */ &&
    value.charCodeAt(10) === 32 /* space */ &&
    value.endsWith('+00') &&
    /^[1-9]\d{3}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?\+00$/u.test(value)
  ) {
    const fraction = length === 22 ? '' : value.slice(20, length - 3);
    const milliseconds = fraction.length >= 3 ? fraction.slice(0, 3) : fraction.padEnd(3, '0');
    return `${value.slice(0, 10)}T${value.slice(11, 19)}.${milliseconds}Z`;
  }
  return new Date(value).toISOString();
}

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
