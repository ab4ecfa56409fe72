export {
  createPool,
  ensureDatabase,
  quoteIdentifier,
  withTransaction,
  type Pool,
  type PoolClient,
  type Queryable,
} from './pool.js';
export { listMigrations, migrate, MIGRATIONS_DIRECTORY, type Migration } from './migrate.js';
