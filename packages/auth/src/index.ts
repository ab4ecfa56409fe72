export {
  ensureSigningKey,
  keyFilesIn,
  readPublicKeySet,
  SIGNING_ALGORITHM,
  type JsonWebKeySet,
  type KeyFiles,
} from './keys.js';
export {
  createTokenVerifier,
  loadTokenVerifier,
  mintToken,
  type MintOptions,
  type TokenAudience,
  type TokenVerifier,
} from './tokens.js';
export { authenticateRequests, principalOf, requireAnyRole } from './fastify.js';
