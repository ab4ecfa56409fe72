import type { Closable, Logger } from '@renkei/runtime';
import type { AuditEntry, OrganisationKind, Principal, Role, Sector } from '@renkei/schema';
import { refusalReason, tokenRefused, type RequestContext, type TokenVerifier } from './tokens.js';

/** What the token check needs of the organisation registry. */
export interface OrganisationDirectory {
  get(id: string): { sector: Sector; kind: OrganisationKind; enabled: boolean } | undefined;
}

/** Roles that read everything or manage the hub: only the GSOC's own people hold them. */
export const GSOC_ONLY_ROLES: readonly Role[] = ['analyst', 'admin'];

/**
 * The caller as the hub treats it: the token's subject and roles, for an
 * organisation that is registered and enabled, with the registry's sector
 * (whatever sector the token carries). Throws a token refusal otherwise.
 */
export function resolvePrincipal(directory: OrganisationDirectory, principal: Principal): Principal {
  const organisation = directory.get(principal.organisationId);
  if (!organisation) throw tokenRefused(`organisation ${principal.organisationId} is not registered`);
  if (!organisation.enabled) throw tokenRefused(`organisation ${principal.organisationId} is disabled`);
  const misplaced = principal.roles.filter((role) => GSOC_ONLY_ROLES.includes(role));
  if (misplaced.length > 0 && organisation.kind !== 'gsoc') {
    throw tokenRefused(
      `role ${misplaced.join(', ')} is for the GSOC only, not a ${organisation.kind} organisation`,
    );
  }
  return { ...principal, sector: organisation.sector };
}

/**
 * Whether an open connection may stay open: its token has not expired and its
 * organisation is still registered, enabled and in the same sector. The
 * gateway asks this of every open socket periodically.
 */
export function isPrincipalStillAllowed(
  directory: OrganisationDirectory,
  principal: Principal,
  now: number = Date.now(),
): boolean {
  if (principal.expiresAt !== undefined && Date.parse(principal.expiresAt) <= now) return false;
  const organisation = directory.get(principal.organisationId);
  return organisation !== undefined && organisation.enabled && organisation.sector === principal.sector;
}

export interface TokenRefusal {
  reason: string;
  context: RequestContext;
  /** Set when the signature held and the registry refused: then the subject is known. */
  principal?: Principal;
}

/**
 * The verifier every HTTP service installs: a valid token for a registered,
 * enabled organisation, with the sector from the registry. Each refusal is
 * passed to `onRefused` (the audit log) before the generic 401.
 */
export function guardTokens({
  verify,
  directory,
  onRefused,
}: {
  verify: TokenVerifier;
  directory: OrganisationDirectory;
  onRefused: (refusal: TokenRefusal) => void;
}): TokenVerifier {
  return async (token, context = {}) => {
    let verified: Principal;
    try {
      verified = await verify(token, context);
    } catch (error) {
      const reason = refusalReason(error);
      if (reason !== undefined) onRefused({ reason, context });
      throw error;
    }
    try {
      return resolvePrincipal(directory, verified);
    } catch (error) {
      onRefused({ reason: refusalReason(error) ?? 'refused', context, principal: verified });
      throw error;
    }
  };
}

export interface RefusalAuditor extends Closable {
  record(refusal: TokenRefusal): void;
}

/**
 * Writes refused tokens to the audit log without letting a flood of bad
 * tokens turn into a flood of writes: up to `perMinute` refusals a minute are
 * written one by one (off the request path, so the 401 stays cheap); past
 * that they are only counted, by reason, and one entry per minute says how
 * many were left out.
 */
export function createRefusalAuditor({
  write,
  perMinute,
  logger,
  windowMs = 60_000,
}: {
  write: (entry: AuditEntry) => Promise<void>;
  perMinute: number;
  logger: Logger;
  windowMs?: number;
}): RefusalAuditor {
  let written = 0;
  let suppressed = new Map<string, number>();
  const pending = new Set<Promise<void>>();

  const send = (entry: AuditEntry) => {
    const writing = write(entry)
      .catch((error: unknown) => logger.warn({ err: error }, 'a refused token could not be audited'))
      .finally(() => pending.delete(writing));
    pending.add(writing);
  };

  const flush = () => {
    if (suppressed.size > 0) {
      const byReason = Object.fromEntries(suppressed);
      const count = [...suppressed.values()].reduce((sum, n) => sum + n, 0);
      send({
        kind: 'token.refused',
        actor: null,
        organisationId: null,
        object: null,
        outcome: 'denied',
        details: { reason: 'more refusals than the audit budget', suppressed: count, byReason },
      });
    }
    written = 0;
    suppressed = new Map();
  };
  const window = setInterval(flush, windowMs);
  window.unref();

  return {
    record({ reason, context, principal }) {
      if (written >= perMinute) {
        suppressed.set(reason, (suppressed.get(reason) ?? 0) + 1);
        return;
      }
      written += 1;
      send({
        kind: 'token.refused',
        actor: principal?.subject ?? null,
        organisationId: principal?.organisationId ?? null,
        object: null,
        outcome: 'denied',
        details: { reason, ...context },
      });
    },
    async close() {
      clearInterval(window);
      flush();
      await Promise.all(pending);
    },
  };
}
