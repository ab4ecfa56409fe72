import { RenkeiError } from '@renkei/runtime';
import { quoteIdentifier, type Queryable } from './pool.js';

/**
 * The services that connect as roles of their own. Each role is granted only
 * what its service's SQL does (infra/postgres/migrations/0017_service_roles.sql);
 * the migrations run as the owner, whoever DATABASE_URL names.
 */
export const SERVICE_ROLES = ['ingest', 'correlator', 'gateway'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

export const DEFAULT_ROLE_PREFIX = 'renkei';
/** Plain identifiers only: they go into URLs, GRANTs and an operator's psql unquoted. */
export const ROLE_PREFIX_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

export function serviceRoleName(service: ServiceRole, prefix: string = DEFAULT_ROLE_PREFIX): string {
  if (!ROLE_PREFIX_PATTERN.test(prefix)) throw new Error(`not a role prefix: ${prefix}`);
  return `${prefix}_${service}`;
}

/**
 * The URL a service does its work with: the one given for it, or else the
 * owner's URL as the service's role, without a password. The latter suits
 * trust (or peer, or a ~/.pgpass entry per role) authentication; with
 * passwords, the operator gives each service its URL.
 */
export function serviceDatabaseUrl(
  ownerUrl: string,
  service: ServiceRole,
  options: { prefix?: string; url?: string | undefined } = {},
): string {
  if (options.url) return options.url;
  const url = new URL(ownerUrl);
  url.username = serviceRoleName(service, options.prefix);
  url.password = '';
  return url.toString();
}

/**
 * Creates the service roles that do not exist yet: LOGIN and nothing else
 * (no password: the operator sets one where passwords are used). Several
 * processes may race here, the first creates and the others find it there.
 * A connection that may not create roles (an owner without CREATEROLE, as in
 * production) is fine while the roles exist: the operator made them.
 */
export async function ensureServiceRoles(db: Queryable, prefix: string = DEFAULT_ROLE_PREFIX): Promise<void> {
  const names = SERVICE_ROLES.map((service) => serviceRoleName(service, prefix));
  const missing = await missingRoles(db, names);
  const refused: string[] = [];
  for (const name of missing) {
    try {
      await db.query(
        `CREATE ROLE ${quoteIdentifier(name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`,
      );
    } catch (error) {
      const code = (error as { code?: string }).code;
      // 42710: created meanwhile by another process; 23505: the same race seen through the catalogue index.
      if (code === '42710' || code === '23505') continue;
      if (code === '42501') {
        refused.push(name);
        continue;
      }
      throw error;
    }
  }
  if (refused.length > 0) {
    throw new RenkeiError(
      'RENKEI_MIGRATION_FAILED',
      `the database roles ${refused.join(', ')} do not exist and this connection may not create them: ` +
        `create them as a superuser (CREATE ROLE <name> LOGIN PASSWORD '…'), see docs/OPERATIONS.md`,
    );
  }
}

async function missingRoles(db: Queryable, names: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ rolname: string }>(
    'SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])',
    [names],
  );
  const present = new Set(rows.map((row) => row.rolname));
  return names.filter((name) => !present.has(name));
}
