import { parseArgs } from 'node:util';
import { ensureSigningKey, GSOC_ONLY_ROLES, keyFilesIn, mintToken } from '@renkei/auth';
import { findOrganisation } from '@renkei/registry';
import { stateDirectory } from '@renkei/runtime';
import { authEnv, describeIssues, fieldIssues, parseEnv, tokenClaimsSchema } from '@renkei/schema';
import { withRegistry } from './registry-access.js';
import { UsageError } from './usage.js';

export const TOKEN_USAGE = `  token --org ID --role ROLE [--role ROLE…] [--sector SECTOR] [--sub SUBJECT] [--ttl 1h]
        mint a token for a registered organisation (its sector comes from the registry;
        --sector, if given, must match it); creates the signing key on first use; prints only the token`;

const TTL =
  /^(\d+)\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

function ttlSeconds(ttl: string): number | undefined {
  const match = TTL.exec(ttl);
  if (!match) return undefined;
  const unit = match[2]!.startsWith('mi') || match[2] === 'm' ? 'm' : match[2]![0]!;
  return Number(match[1]) * UNIT_SECONDS[unit]!;
}

const FLAG_OF: Record<string, string> = { org: 'org', sector: 'sector', roles: 'role', sub: 'sub' };

export async function tokenCommand(args: string[], env: Record<string, string | undefined>): Promise<string> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        org: { type: 'string' },
        sector: { type: 'string' },
        role: { type: 'string', multiple: true },
        sub: { type: 'string' },
        ttl: { type: 'string', default: '1h' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\nusage:\n${TOKEN_USAGE}`);
  }
  // Checked with a placeholder sector first, so a bad flag is named before the registry is asked.
  const claims = tokenClaimsSchema.safeParse({
    sub: values.sub ?? `${values.org ?? 'unknown'}-user`,
    org: values.org,
    sector: values.sector ?? 'central-government',
    roles: values.role ?? [],
  });
  if (!claims.success) {
    const named = fieldIssues(claims.error).map((issue) => ({
      ...issue,
      field: `--${FLAG_OF[issue.field.split('[')[0]!] ?? issue.field}`,
    }));
    throw new UsageError(describeIssues(named));
  }
  const auth = parseEnv(authEnv, env);
  const seconds = ttlSeconds(values.ttl);
  if (seconds === undefined) throw new UsageError(`--ttl: must be like 30m, 1h or 7d, not "${values.ttl}"`);
  if (seconds > auth.AUTH_MAX_TOKEN_LIFETIME_SECONDS) {
    throw new UsageError(
      `--ttl: at most ${auth.AUTH_MAX_TOKEN_LIFETIME_SECONDS} s (AUTH_MAX_TOKEN_LIFETIME_SECONDS); services refuse longer tokens`,
    );
  }

  const id = claims.data.org;
  const organisation = await withRegistry(env, (pool) => findOrganisation(pool, id));
  if (!organisation) {
    throw new UsageError(
      `organisation ${id} is not registered: add it first with\n  renkei org add --id ${id} --name "…" --sector … --kind agency|ceptar|operator|gsoc`,
    );
  }
  if (!organisation.enabled) {
    throw new UsageError(`organisation ${id} is disabled: its tokens are refused (renkei org enable ${id})`);
  }
  if (values.sector !== undefined && values.sector !== organisation.sector) {
    throw new UsageError(
      `--sector: ${id} is registered in sector ${organisation.sector}, not ${values.sector}`,
    );
  }
  const gsocOnly = claims.data.roles.filter((role) => GSOC_ONLY_ROLES.includes(role));
  if (gsocOnly.length > 0 && organisation.kind !== 'gsoc') {
    throw new UsageError(
      `--role: ${gsocOnly.join(', ')} is for GSOC organisations only; ${id} is a ${organisation.kind}`,
    );
  }

  const signingKey = await ensureSigningKey(keyFilesIn(stateDirectory(env)));
  return mintToken(
    signingKey,
    { ...claims.data, sector: organisation.sector },
    { issuer: auth.AUTH_ISSUER, audience: auth.AUTH_AUDIENCE, ttl: `${seconds}s` },
  );
}
