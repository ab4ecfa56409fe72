import { stat } from 'node:fs/promises';
import {
  SignJWT,
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  importJWK,
  jwtVerify,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { RenkeiError, stateDirectory, type Closable, type Logger } from '@renkei/runtime';
import {
  describeIssues,
  fieldIssues,
  principalFromClaims,
  tokenClaimsSchema,
  type Principal,
  type TokenClaims,
} from '@renkei/schema';
import {
  ACCEPTED_ALGORITHMS,
  keyFilesIn,
  readPublicKeySet,
  SIGNING_ALGORITHM,
  type JsonWebKeySet,
} from './keys.js';

export interface TokenAudience {
  issuer: string;
  audience: string;
}

export interface MintOptions extends TokenAudience {
  /** A jose time span such as `1h`, `30m` or `7d`. */
  ttl: string;
}

export async function mintToken(signingKey: JWK, claims: TokenClaims, options: MintOptions): Promise<string> {
  // Services look the key up by kid and refuse a token without one.
  if (!signingKey.kid) throw new Error('the signing key has no kid');
  const algorithm = signingKey.alg ?? SIGNING_ALGORITHM;
  const key = await importJWK(signingKey, algorithm);
  return new SignJWT({ org: claims.org, sector: claims.sector, roles: claims.roles })
    .setProtectedHeader({ alg: algorithm, typ: 'JWT', kid: signingKey.kid })
    .setSubject(claims.sub)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(options.ttl)
    .sign(key);
}

/** Where a token was presented, for the log and the audit log; never the token. */
export interface RequestContext {
  method?: string;
  /** The route pattern, e.g. `/v1/reports/:id`. */
  route?: string;
  ip?: string;
}

export type TokenVerifier = (token: string, context?: RequestContext) => Promise<Principal>;

/**
 * A refused token: the client gets the generic 401, the reason goes to the
 * log and the audit log only (a precise reason helps an attacker more than a user).
 */
export function tokenRefused(reason: string, cause?: unknown): RenkeiError {
  return new RenkeiError('RENKEI_UNAUTHENTICATED', undefined, {
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Why a token was refused, when the error is a refusal. */
export function refusalReason(error: unknown): string | undefined {
  if (!(error instanceof RenkeiError) || error.code !== 'RENKEI_UNAUTHENTICATED') return undefined;
  const reason = error.details?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

export interface VerificationRules extends TokenAudience {
  /** `exp - iat` may not exceed this. */
  maxLifetimeSeconds: number;
  /** Slack for clocks that disagree, on `exp`, `nbf` and `iat`. */
  clockToleranceSeconds: number;
  now?: () => number;
}

/** A key set that may change while the service runs. */
export interface KeySetSource {
  current(): JsonWebKeySet;
}

/**
 * Verifies tokens: EdDSA or ES256 only, `kid` required and looked up in the
 * set (`jku`, `x5u` and `jwk` headers are never followed), unknown `crit`
 * refused, `iss`, `aud`, `exp`, `iat` and `sub` required, `nbf` honoured, an
 * `iat` in the future and a lifetime over the maximum refused, then the hub's
 * own claims checked with the shared schema.
 */
export function createTokenVerifier(
  keys: JsonWebKeySet | KeySetSource,
  rules: VerificationRules,
): TokenVerifier {
  const source: KeySetSource = 'current' in keys ? keys : { current: () => keys };
  let cachedSet: JsonWebKeySet | undefined;
  let cachedKeys: JWTVerifyGetKey | undefined;
  const keysNow = (): JWTVerifyGetKey => {
    const set = source.current();
    if (set !== cachedSet || !cachedKeys) {
      cachedSet = set;
      cachedKeys = createLocalJWKSet(set);
    }
    return cachedKeys;
  };
  const now = rules.now ?? (() => Date.now());
  const verified = new Map<string, { principal: Principal; expiresAt: number; set: JsonWebKeySet }>();

  const verifyAfresh = async (token: string): Promise<{ principal: Principal; expiresAt: number }> => {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch (error) {
      throw tokenRefused('the token is not a JWS', error);
    }
    if (!ACCEPTED_ALGORITHMS.includes(header.alg as (typeof ACCEPTED_ALGORITHMS)[number])) {
      throw tokenRefused(`algorithm ${JSON.stringify(header.alg ?? null)} is not accepted`);
    }
    if (typeof header.kid !== 'string' || header.kid.length === 0) {
      throw tokenRefused('the token names no key (kid)');
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keysNow(), {
        issuer: rules.issuer,
        audience: rules.audience,
        algorithms: [...ACCEPTED_ALGORITHMS],
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'sub'],
        clockTolerance: rules.clockToleranceSeconds,
        currentDate: new Date(now()),
      }));
    } catch (error) {
      throw tokenRefused(describeJoseError(error), error);
    }
    const issuedAt = payload.iat as number;
    const expiresAt = payload.exp as number;
    const nowSeconds = now() / 1000;
    if (issuedAt > nowSeconds + rules.clockToleranceSeconds) {
      throw tokenRefused('the token was issued in the future (iat)');
    }
    if (expiresAt - issuedAt > rules.maxLifetimeSeconds) {
      throw tokenRefused(`the token lives longer than ${rules.maxLifetimeSeconds} s (exp - iat)`);
    }
    const claims = tokenClaimsSchema.safeParse(payload);
    if (!claims.success) {
      throw tokenRefused(`token claims are not valid: ${describeIssues(fieldIssues(claims.error))}`);
    }
    return { principal: principalFromClaims(claims.data, expiresAt), expiresAt };
  };

  // A client sends the same token with every request until it expires, and checking its
  // signature was an eighth of ingest's CPU at 250 reports/s (a CPU profile of the
  // end-to-end benchmark). A token verified once is known by its exact bytes for as long as
  // the key set it was checked against is the one in use (a rotation or retirement makes a
  // new set: every token is checked again) and until it expires, with the same tolerance as
  // the first check. Everything else the first check looked at (signature, issuer,
  // audience, `nbf`, `iat`, lifetime, claims) cannot change for the same bytes. Refusals are
  // never kept: a token that was not valid yet is checked again.
  return async (token) => {
    const set = source.current();
    const known = verified.get(token);
    if (known !== undefined) {
      if (known.set === set && known.expiresAt > now() / 1000 - rules.clockToleranceSeconds) {
        return { ...known.principal, roles: [...known.principal.roles] };
      }
      verified.delete(token);
    }
    const { principal, expiresAt } = await verifyAfresh(token);
    if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!);
    verified.set(token, { principal: { ...principal, roles: [...principal.roles] }, expiresAt, set });
    return principal;
  };
}

/** Tokens remembered as verified: far more than the hub's users, each a few hundred bytes. */
const VERIFIED_TOKENS_KEPT = 10_000;

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'the token is not valid yet (nbf)';
    return `token claim "${error.claim}" is not valid: ${error.reason}`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token was not signed by a key of this hub (kid)';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'the token matches several keys';
  if (error instanceof errors.JOSENotSupported) return `not supported: ${error.message}`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token algorithm is not accepted';
  return 'the token is not valid';
}

interface VerifierConfig {
  AUTH_JWKS_FILE?: string | undefined;
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
  AUTH_MAX_TOKEN_LIFETIME_SECONDS?: number;
  AUTH_CLOCK_TOLERANCE_SECONDS?: number;
}

function rulesFrom(config: VerifierConfig): VerificationRules {
  return {
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    maxLifetimeSeconds: config.AUTH_MAX_TOKEN_LIFETIME_SECONDS ?? 30 * 24 * 3600,
    clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE_SECONDS ?? 30,
  };
}

function jwksFileOf(config: VerifierConfig): string {
  return config.AUTH_JWKS_FILE ?? keyFilesIn(stateDirectory()).publicKeySet;
}

/** A verifier over the key set as it is now (tests; tools that run briefly). */
export async function loadTokenVerifier(config: VerifierConfig): Promise<TokenVerifier> {
  return createTokenVerifier(await readPublicKeySet(jwksFileOf(config)), rulesFrom(config));
}

export interface WatchedTokenVerifier extends Closable {
  verify: TokenVerifier;
}

/**
 * The verifier a service uses: it reads the key set again whenever the file
 * changes (checked every `AUTH_JWKS_POLL_MS`), so `renkei keys rotate` and
 * `keys retire` take effect without a restart. A set that cannot be read or
 * holds no keys is logged and the previous one kept: a bad edit never locks
 * everyone out, nor lets anyone in.
 */
export async function watchTokenVerifier(
  config: VerifierConfig & { AUTH_JWKS_POLL_MS?: number },
  logger: Logger,
): Promise<WatchedTokenVerifier> {
  const file = jwksFileOf(config);
  let keySet = await readPublicKeySet(file);
  let seen = await fingerprint(file);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async () => {
    try {
      const now = await fingerprint(file);
      if (now !== seen) {
        seen = now;
        keySet = await readPublicKeySet(file);
        logger.info({ file, kids: keySet.keys.map((key) => key.kid) }, 'key set changed: reloaded');
      }
    } catch (error) {
      logger.warn({ err: error, file }, 'key set could not be read: the previous one stays in use');
    } finally {
      if (!closed) timer = setTimeout(() => void poll(), config.AUTH_JWKS_POLL_MS ?? 1_000);
    }
  };
  timer = setTimeout(() => void poll(), config.AUTH_JWKS_POLL_MS ?? 1_000);
  return {
    verify: createTokenVerifier({ current: () => keySet }, rulesFrom(config)),
    async close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}

/** Changes whenever the file is replaced or rewritten (rotation renames a new file into place). */
async function fingerprint(file: string): Promise<string> {
  const info = await stat(file);
  return `${info.ino}:${info.size}:${info.mtimeMs}`;
}
