import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPOSITORY_ROOT, RenkeiError, type Logger } from '@renkei/runtime';
import { createPool, ensureDatabase, type Pool } from './pool.js';
import { DEFAULT_ROLE_PREFIX, ensureServiceRoles } from './roles.js';
import { isDatabaseUnavailable } from './unavailable.js';

export const MIGRATIONS_DIRECTORY = path.join(REPOSITORY_ROOT, 'infra/postgres/migrations');

// Any fixed number works; it only has to be the same in every process of the hub.
const MIGRATION_LOCK_KEY = 0x52454e4b; // "RENK"

export interface Migration {
  version: number;
  name: string;
  file: string;
}

/** Migrations are files named `0001_what.sql`, numbered from 1 without gaps. */
export async function listMigrations(directory: string = MIGRATIONS_DIRECTORY): Promise<Migration[]> {
  const migrations = (await readdir(directory))
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
      if (!match) throw new Error(`migration file name must look like 0001_name.sql: ${file}`);
      return { version: Number(match[1]), name: match[2]!, file: path.join(directory, file) };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(
        `migrations must be numbered 1, 2, 3…: expected ${index + 1}, found ${migration.version}`,
      );
    }
  });
  return migrations;
}

export interface MigrateOptions {
  directory?: string;
  logger?: Logger;
  /** Names the services' roles the migrations grant to (`<prefix>_gateway`…): DATABASE_ROLE_PREFIX. */
  rolePrefix?: string;
}

/**
 * Applies every migration not yet applied, each in its own transaction. A
 * session-level advisory lock lets several processes start at once: one
 * migrates, the others wait and then find nothing left to do. Before
 * anything is applied, the services' roles are created if missing (the
 * migrations grant to them), when the connection may create roles.
 */
export async function migrate(
  pool: Pool,
  { directory = MIGRATIONS_DIRECTORY, logger, rolePrefix = DEFAULT_ROLE_PREFIX }: MigrateOptions = {},
): Promise<number[]> {
  const migrations = await listMigrations(directory);
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
        (row) => row.version,
      ),
    );
    const newest = migrations.at(-1)?.version ?? 0;
    const unknown = [...done].filter((version) => version > newest);
    if (unknown.length > 0) {
      logger?.warn(
        { unknown },
        'the database has migrations this code does not know: it is newer than the code',
      );
    }
    const pending = migrations.filter((migration) => !done.has(migration.version));
    if (pending.length > 0) await ensureServiceRoles(client, rolePrefix);
    for (const migration of pending) {
      const sql = await readFile(migration.file, 'utf8');
      try {
        await client.query('BEGIN');
        // Read by the migrations that grant to the services' roles; gone at COMMIT.
        await client.query("SELECT set_config('renkei.role_prefix', $1, true)", [rolePrefix]);
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new RenkeiError(
          'RENKEI_MIGRATION_FAILED',
          `migration ${migration.version} (${migration.name}) failed`,
          {
            cause: error,
          },
        );
      }
      applied.push(migration.version);
      logger?.info({ version: migration.version, name: migration.name }, 'migration applied');
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
  return applied;
}

export interface OpenMigratedPoolOptions {
  max?: number;
  logger?: Logger;
  lossTimeoutMs?: number;
  rolePrefix?: string;
  /**
   * The connection the returned pool uses: the service's own role
   * (`serviceDatabaseUrl`). The migrations run on a connection of the
   * owner's, closed before this returns. Without it the pool is the owner's.
   */
  workAs?: string;
  applicationName?: string;
}

/**
 * What every service does first: create the database if missing, apply the
 * migrations as the owner (`connectionString`), and open a pool as the
 * service's own role (`workAs`). The caller ends the pool.
 *
 * A PostgreSQL that is away (restarting, refusing, out of connections) at
 * start-up is waited for, as a running service waits for it: retried with
 * backoff for ever, or until `lossTimeoutMs` when the service opted into
 * exiting (0 means never). Any other failure ends the start at once.
 */
export async function openMigratedPool(
  connectionString: string,
  options: OpenMigratedPoolOptions = {},
): Promise<Pool> {
  const { lossTimeoutMs = 0, ...poolOptions } = options;
  const started = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await openMigratedPoolOnce(connectionString, poolOptions);
    } catch (error) {
      const waited = Date.now() - started;
      if (!isDatabaseUnavailable(error) || (lossTimeoutMs > 0 && waited >= lossTimeoutMs)) throw error;
      const delayMs = Math.min(200 * 2 ** Math.min(attempt, 5), 5_000);
      options.logger?.warn(
        { err: error, attempt, waitedMs: waited },
        'PostgreSQL is not available yet: waiting to start',
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

async function openMigratedPoolOnce(
  connectionString: string,
  options: Omit<OpenMigratedPoolOptions, 'lossTimeoutMs'>,
): Promise<Pool> {
  const { workAs, rolePrefix, logger, ...poolOptions } = options;
  const migrateOptions = { ...(logger ? { logger } : {}), ...(rolePrefix ? { rolePrefix } : {}) };
  await ensureDatabase(connectionString);
  if (workAs === undefined) {
    const pool = createPool(connectionString, { ...poolOptions, ...(logger ? { logger } : {}) });
    try {
      await migrate(pool, migrateOptions);
      return pool;
    } catch (error) {
      await pool.end();
      throw error;
    }
  }
  const owner = createPool(connectionString, { max: 1, applicationName: 'renkei-migrations' });
  try {
    await migrate(owner, migrateOptions);
  } finally {
    await owner.end();
  }
  const pool = createPool(workAs, { ...poolOptions, ...(logger ? { logger } : {}) });
  try {
    await warnIfPrivileged(pool, connectionString, logger);
    return pool;
  } catch (error) {
    await pool.end();
    throw error;
  }
}

/**
 * Connects once as the service's role (a role that is missing or may not log
 * in fails the start here, not at the first request) and says so when the
 * role can write everything anyway: least privilege is then not in force.
 */
async function warnIfPrivileged(pool: Pool, ownerUrl: string, logger: Logger | undefined): Promise<void> {
  const { rows } = await pool.query<{ role: string; superuser: boolean }>(
    'SELECT current_user AS role, rolsuper AS superuser FROM pg_roles WHERE rolname = current_user',
  );
  const { role, superuser } = rows[0]!;
  const owner = decodeURIComponent(new URL(ownerUrl).username);
  if (superuser || role === owner) {
    logger?.warn(
      { role },
      'this service connects to PostgreSQL as a superuser or as the owner: give it its own role (docs/OPERATIONS.md, "Database roles")',
    );
  }
}
