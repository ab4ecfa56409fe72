export {
  createPool,
  HUB_TYPE_PARSERS,
  ensureDatabase,
  quoteIdentifier,
  withTransaction,
  type Pool,
  type PoolClient,
  type Queryable,
} from './pool.js';
export {
  listMigrations,
  migrate,
  MIGRATIONS_DIRECTORY,
  openMigratedPool,
  type Migration,
} from './migrate.js';
export { isDatabaseUnavailable } from './unavailable.js';
export { watchDatabase } from './watch.js';
export { advisoryLeadership, type AdvisoryLeadership, type AdvisoryLeadershipOptions } from './leadership.js';
