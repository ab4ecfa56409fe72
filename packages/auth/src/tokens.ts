import { SignJWT, createLocalJWKSet, errors, importJWK, jwtVerify, type JWK } from 'jose';
import { RenkeiError, stateDirectory } from '@renkei/runtime';
import {
  describeIssues,
  fieldIssues,
  principalFromClaims,
  tokenClaimsSchema,
  type Principal,
  type TokenClaims,
} from '@renkei/schema';
import { keyFilesIn, readPublicKeySet, SIGNING_ALGORITHM, type JsonWebKeySet } from './keys.js';

export interface TokenAudience {
  issuer: string;
  audience: string;
}

export interface MintOptions extends TokenAudience {
  /** A jose time span such as `1h`, `30m` or `7d`. */
  ttl: string;
}

export async function mintToken(signingKey: JWK, claims: TokenClaims, options: MintOptions): Promise<string> {
  const key = await importJWK(signingKey, SIGNING_ALGORITHM);
  return new SignJWT({ org: claims.org, sector: claims.sector, roles: claims.roles })
    .setProtectedHeader({
      alg: SIGNING_ALGORITHM,
      typ: 'JWT',
      ...(signingKey.kid ? { kid: signingKey.kid } : {}),
    })
    .setSubject(claims.sub)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(options.ttl)
    .sign(key);
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * Verifies tokens against a key set: signature, `iss`, `aud` and `exp` are all
 * required, then the hub's own claims are checked with the shared schema.
 */
export function createTokenVerifier(keySet: JsonWebKeySet, audience: TokenAudience): TokenVerifier {
  const keys = createLocalJWKSet(keySet);
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: audience.issuer,
        audience: audience.audience,
        algorithms: [SIGNING_ALGORITHM],
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw new RenkeiError('RENKEI_UNAUTHENTICATED', describeJoseError(error), { cause: error });
    }
    const claims = tokenClaimsSchema.safeParse(payload);
    if (!claims.success) {
      throw new RenkeiError(
        'RENKEI_UNAUTHENTICATED',
        `token claims are not valid: ${describeIssues(fieldIssues(claims.error))}`,
      );
    }
    return principalFromClaims(claims.data, typeof payload.exp === 'number' ? payload.exp : undefined);
  };
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `token claim "${error.claim}" is not valid`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token was not signed by a key of this hub';
  return 'the token is not valid';
}

/** The verifier a service uses: the key set from AUTH_JWKS_FILE, or the local hub's. */
export async function loadTokenVerifier(config: {
  AUTH_JWKS_FILE?: string | undefined;
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
}): Promise<TokenVerifier> {
  const keySet = await readPublicKeySet(config.AUTH_JWKS_FILE ?? keyFilesIn(stateDirectory()).publicKeySet);
  return createTokenVerifier(keySet, { issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE });
}
