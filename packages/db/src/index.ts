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
  type MigrateOptions,
  type OpenMigratedPoolOptions,
} from './migrate.js';
export { isDatabaseUnavailable } from './unavailable.js';
export { watchDatabase } from './watch.js';
export { advisoryLeadership, type AdvisoryLeadership, type AdvisoryLeadershipOptions } from './leadership.js';
export {
  DEFAULT_ROLE_PREFIX,
  ensureServiceRoles,
  ROLE_PREFIX_PATTERN,
  SERVICE_ROLES,
  serviceDatabaseUrl,
  serviceRoleName,
  type ServiceRole,
} from './roles.js';
