import type { FastifyInstance } from 'fastify';
import type { Logger } from '@renkei/runtime';
import type { AuditEntry } from '@renkei/schema';
import { createRefusalAuditor, guardTokens, type OrganisationDirectory } from './authenticator.js';
import { limitWritesPerOrganisation, type WriteLimits } from './rate-limit.js';
import type { TokenVerifier } from './tokens.js';

/** The access settings a service takes from its configuration (`authEnv`). */
export interface AccessSettings {
  writeLimits: WriteLimits;
  /** Refused tokens written to the audit log per minute; the rest are counted. */
  refusalsPerMinute: number;
}

export const DEFAULT_ACCESS_SETTINGS: AccessSettings = {
  writeLimits: { max: 600, windowMs: 60_000 },
  refusalsPerMinute: 60,
};

export function accessSettingsFrom(config: {
  RATE_LIMIT_WRITES_MAX: number;
  RATE_LIMIT_WRITES_WINDOW_MS: number;
  AUDIT_REFUSALS_PER_MINUTE: number;
}): AccessSettings {
  return {
    writeLimits: { max: config.RATE_LIMIT_WRITES_MAX, windowMs: config.RATE_LIMIT_WRITES_WINDOW_MS },
    refusalsPerMinute: config.AUDIT_REFUSALS_PER_MINUTE,
  };
}

export interface AccessControl {
  /** Hand to `createHttpApp`: tokens checked, then the registry, refusals audited. */
  verifyToken: TokenVerifier;
  /** Call on the app before declaring routes: write limits, and the audit writer's close. */
  install(app: FastifyInstance): Promise<void>;
}

/**
 * Everything an HTTP service of the hub does about who may call it: a valid
 * token of a registered, enabled organisation (sector from the registry),
 * refusals audited within a budget, writes limited per organisation.
 */
export function accessControl({
  verifyToken,
  directory,
  writeAudit,
  logger,
  settings = DEFAULT_ACCESS_SETTINGS,
}: {
  verifyToken: TokenVerifier;
  directory: OrganisationDirectory;
  writeAudit: (entry: AuditEntry) => Promise<void>;
  logger: Logger;
  settings?: AccessSettings;
}): AccessControl {
  const refusals = createRefusalAuditor({ write: writeAudit, perMinute: settings.refusalsPerMinute, logger });
  return {
    verifyToken: guardTokens({
      verify: verifyToken,
      directory,
      onRefused: (refusal) => refusals.record(refusal),
    }),
    async install(app) {
      app.addHook('onClose', () => refusals.close());
      await limitWritesPerOrganisation(app, settings.writeLimits);
    },
  };
}
