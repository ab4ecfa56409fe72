import type { FastifyInstance } from 'fastify';
import type { Logger } from '@renkei/runtime';
import { authEnv, type AuditEntry } from '@renkei/schema';
import { createRefusalAuditor, guardTokens, type OrganisationDirectory } from './authenticator.js';
import { limitWritesPerOrganisation, type WriteLimits } from './rate-limit.js';
import { limitReadsPerOrganisation, type ReadCostTable, type ReadLimits } from './read-limit.js';
import type { TokenVerifier } from './tokens.js';

/** The access settings a service takes from its configuration (`authEnv`). */
export interface AccessSettings {
  writeLimits: WriteLimits;
  /** Read budgets per organisation; {@link DEFAULT_READ_LIMITS} when left out. */
  readLimits?: ReadLimits;
  /** Refused tokens written to the audit log per minute; the rest are counted. */
  refusalsPerMinute: number;
}

/** The environment's defaults (`authEnv`): a member can pull an export every half second, not four at once. */
export const DEFAULT_READ_LIMITS: ReadLimits = accessSettingsFrom(authEnv.parse({})).readLimits!;

export const DEFAULT_ACCESS_SETTINGS: AccessSettings = {
  writeLimits: { max: 600, windowMs: 60_000 },
  readLimits: DEFAULT_READ_LIMITS,
  refusalsPerMinute: 60,
};

export function accessSettingsFrom(config: {
  RATE_LIMIT_WRITES_MAX: number;
  RATE_LIMIT_WRITES_WINDOW_MS: number;
  RATE_LIMIT_READS_PER_SECOND: number;
  RATE_LIMIT_READS_BURST: number;
  RATE_LIMIT_EXPENSIVE_READS_IN_FLIGHT: number;
  RATE_LIMIT_ANALYST_READS_PER_SECOND: number;
  RATE_LIMIT_ANALYST_READS_BURST: number;
  RATE_LIMIT_ANALYST_EXPENSIVE_READS_IN_FLIGHT: number;
  AUDIT_REFUSALS_PER_MINUTE: number;
}): AccessSettings {
  return {
    writeLimits: { max: config.RATE_LIMIT_WRITES_MAX, windowMs: config.RATE_LIMIT_WRITES_WINDOW_MS },
    readLimits: {
      member: {
        perSecond: config.RATE_LIMIT_READS_PER_SECOND,
        burst: config.RATE_LIMIT_READS_BURST,
        expensiveInFlight: config.RATE_LIMIT_EXPENSIVE_READS_IN_FLIGHT,
      },
      analyst: {
        perSecond: config.RATE_LIMIT_ANALYST_READS_PER_SECOND,
        burst: config.RATE_LIMIT_ANALYST_READS_BURST,
        expensiveInFlight: config.RATE_LIMIT_ANALYST_EXPENSIVE_READS_IN_FLIGHT,
      },
    },
    refusalsPerMinute: config.AUDIT_REFUSALS_PER_MINUTE,
  };
}

export interface AccessControl {
  /** Hand to `createHttpApp`: tokens checked, then the registry, refusals audited. */
  verifyToken: TokenVerifier;
  /** Call on the app before declaring routes: write limits, read budgets, and the audit writer's close. */
  install(app: FastifyInstance): Promise<void>;
}

/**
 * Everything an HTTP service of the hub does about who may call it: a valid
 * token of a registered, enabled organisation (sector from the registry),
 * refusals audited within a budget, writes limited and reads budgeted per
 * organisation (reads weighted by `readCosts`, the service's table).
 */
export function accessControl({
  verifyToken,
  directory,
  writeAudit,
  logger,
  settings = DEFAULT_ACCESS_SETTINGS,
  readCosts = {},
}: {
  verifyToken: TokenVerifier;
  directory: OrganisationDirectory;
  writeAudit: (entry: AuditEntry) => Promise<void>;
  logger: Logger;
  settings?: AccessSettings;
  readCosts?: ReadCostTable;
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
      limitReadsPerOrganisation(app, {
        limits: settings.readLimits ?? DEFAULT_READ_LIMITS,
        costs: readCosts,
      });
    },
  };
}
