import { userInfo } from 'node:os';
import { recordAudit } from '@renkei/audit';
import { createPool, ensureDatabase, migrate, type Pool } from '@renkei/db';
import { databaseEnv, parseEnv, type AuditEntry } from '@renkei/schema';

/** Who the audit log names for changes made from this command line. */
export function cliActor(): { subject: string; organisationId: null } {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No user entry (some containers): the log still says it came from the CLI.
  }
  return { subject: `cli:${name}`, organisationId: null };
}

/**
 * Runs `work` on the hub's database (DATABASE_URL), created and migrated if
 * need be. As the owner, not a service's role: the CLI is the operator's
 * tool, run by hand, that migrates and administers the registry.
 */
export async function withRegistry<T>(
  env: Record<string, string | undefined>,
  work: (pool: Pool) => Promise<T>,
): Promise<T> {
  const { DATABASE_URL, DATABASE_ROLE_PREFIX } = parseEnv(databaseEnv, env);
  await ensureDatabase(DATABASE_URL);
  const pool = createPool(DATABASE_URL, { max: 2, applicationName: 'renkei-cli' });
  try {
    await migrate(pool, { rolePrefix: DATABASE_ROLE_PREFIX });
    return await work(pool);
  } finally {
    await pool.end();
  }
}

export async function auditFromCli(
  env: Record<string, string | undefined>,
  entry: Omit<AuditEntry, 'actor' | 'organisationId'>,
): Promise<void> {
  const actor = cliActor();
  await withRegistry(env, (pool) =>
    recordAudit(pool, { ...entry, actor: actor.subject, organisationId: actor.organisationId }),
  );
}
