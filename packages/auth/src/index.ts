export {
  ACCEPTED_ALGORITHMS,
  ensureSigningKey,
  keyFilesIn,
  KeyRetirementError,
  readPublicKeySet,
  retireKey,
  rotateSigningKey,
  SIGNING_ALGORITHM,
  type JsonWebKeySet,
  type KeyFiles,
  type Rotation,
  type SigningAlgorithm,
} from './keys.js';
export {
  createTokenVerifier,
  loadTokenVerifier,
  mintToken,
  refusalReason,
  tokenRefused,
  watchTokenVerifier,
  type KeySetSource,
  type MintOptions,
  type RequestContext,
  type TokenAudience,
  type TokenVerifier,
  type VerificationRules,
  type WatchedTokenVerifier,
} from './tokens.js';
export {
  createRefusalAuditor,
  GSOC_ONLY_ROLES,
  guardTokens,
  isPrincipalStillAllowed,
  resolvePrincipal,
  type OrganisationDirectory,
  type RefusalAuditor,
  type TokenRefusal,
} from './authenticator.js';
export { authenticateRequests, principalOf, requireAnyRole, taxiiToken } from './fastify.js';
export { limitWritesPerOrganisation, type WriteLimits } from './rate-limit.js';
export { InFlightSlots, TokenBuckets, type BucketRate, type Take } from './read-budget.js';
export {
  DEFAULT_READ_COST,
  limitReadsPerOrganisation,
  type ReadBudget,
  type ReadCost,
  type ReadCostTable,
  type ReadLimits,
} from './read-limit.js';
export { redactUrl, withRedactedRequests } from './request-log.js';
export {
  accessControl,
  accessSettingsFrom,
  DEFAULT_ACCESS_SETTINGS,
  DEFAULT_READ_LIMITS,
  type AccessControl,
  type AccessSettings,
} from './access.js';
export { createSealer, deriveHubKey, ensureHubSecret, hubSecretFileIn, type Sealer } from './hub-secret.js';
