import { createHmac, createPrivateKey, sign, type JsonWebKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  SignJWT,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenkeiError } from '@renkei/runtime';
import type { TokenClaims } from '@renkei/schema';
import {
  createTokenVerifier,
  ensureSigningKey,
  keyFilesIn,
  mintToken,
  readPublicKeySet,
  refusalReason,
  type JsonWebKeySet,
  type TokenVerifier,
  type VerificationRules,
} from '../src/index.js';

const RULES: VerificationRules = {
  issuer: 'renkei',
  audience: 'renkei-api',
  maxLifetimeSeconds: 30 * 24 * 3600,
  clockToleranceSeconds: 30,
};
const CLAIMS: TokenClaims = { sub: 'alice', org: 'acme-bank', sector: 'finance', roles: ['reporter'] };
const HUB_CLAIMS = { org: 'acme-bank', sector: 'finance', roles: ['reporter'] };

let dirs: string[] = [];
let signingKey: JWK;
let keySet: JsonWebKeySet;
let otherKey: JWK;
let otherKeySet: JsonWebKeySet;
let verify: TokenVerifier;

async function freshKeys(): Promise<{ key: JWK; set: JsonWebKeySet }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'renkei-auth-tokens-'));
  dirs.push(dir);
  const files = keyFilesIn(dir);
  const key = await ensureSigningKey(files);
  return { key, set: await readPublicKeySet(files.publicKeySet) };
}

beforeAll(async () => {
  ({ key: signingKey, set: keySet } = await freshKeys());
  ({ key: otherKey, set: otherKeySet } = await freshKeys());
  verify = createTokenVerifier(keySet, RULES);
});

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  dirs = [];
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Crafted {
  key?: JWK;
  header?: Record<string, unknown>;
  issuer?: string | null;
  audience?: string | null;
  issuedAt?: number | null;
  expiresAt?: number | null;
  notBefore?: number;
  subject?: string | null;
}

/** Signs arbitrary claims and headers with a key (the hub's by default); null leaves a claim out. */
async function craft(
  payload: Record<string, unknown> = HUB_CLAIMS,
  {
    key = signingKey,
    header = {},
    issuer = RULES.issuer,
    audience = RULES.audience,
    issuedAt = nowSeconds(),
    expiresAt = nowSeconds() + 3600,
    notBefore,
    subject = 'alice',
  }: Crafted = {},
): Promise<string> {
  const claims: Record<string, unknown> = { ...payload };
  if (issuer !== null) claims.iss = issuer;
  if (audience !== null) claims.aud = audience;
  if (issuedAt !== null) claims.iat = issuedAt;
  if (expiresAt !== null) claims.exp = expiresAt;
  if (notBefore !== undefined) claims.nbf = notBefore;
  if (subject !== null) claims.sub = subject;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg ?? 'EdDSA', typ: 'JWT', kid: key.kid!, ...header })
    .sign(await importJWK(key, key.alg ?? 'EdDSA'));
}

/** The refusal's reason: every refusal is the same generic 401 for the client. */
async function refusal(token: string, verifier: TokenVerifier = verify): Promise<string> {
  const error = await verifier(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RenkeiError);
  const renkeiError = error as RenkeiError;
  expect(renkeiError.code).toBe('RENKEI_UNAUTHENTICATED');
  expect(renkeiError.status).toBe(401);
  expect(renkeiError.message).toBe('a valid bearer token is required');
  return refusalReason(renkeiError)!;
}

describe('mintToken', () => {
  it('signs an EdDSA JWT carrying the hub claims and the key id', async () => {
    const token = await mintToken(signingKey, CLAIMS, { ...RULES, ttl: '1h' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: signingKey.kid });
    const payload = decodeJwt(token);
    expect(payload).toMatchObject({
      sub: 'alice',
      org: 'acme-bank',
      sector: 'finance',
      roles: ['reporter'],
      iss: 'renkei',
      aud: 'renkei-api',
    });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('refuses a key without a kid: services would refuse its tokens', async () => {
    const { kid: _kid, ...withoutKid } = signingKey;
    await expect(mintToken(withoutKid, CLAIMS, { ...RULES, ttl: '5m' })).rejects.toThrow(/kid/);
  });
});

describe('createTokenVerifier: accepted tokens', () => {
  it('round-trips a minted token to its principal', async () => {
    const token = await mintToken(signingKey, CLAIMS, { ...RULES, ttl: '1h' });
    expect(await verify(token)).toEqual({
      subject: 'alice',
      organisationId: 'acme-bank',
      sector: 'finance',
      roles: ['reporter'],
      expiresAt: new Date(decodeJwt(token).exp! * 1000).toISOString(),
    });
  });

  it('removes duplicate roles', async () => {
    const token = await mintToken(
      signingKey,
      { ...CLAIMS, roles: ['analyst', 'reporter', 'analyst'] },
      { ...RULES, ttl: '1h' },
    );
    expect((await verify(token)).roles).toEqual(['analyst', 'reporter']);
  });

  it('accepts ES256 keys from the set', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const es256 = { ...(await exportJWK(privateKey)), alg: 'ES256', kid: 'es256-key' };
    const set = { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', kid: 'es256-key', use: 'sig' }] };
    const token = await mintToken(es256, CLAIMS, { ...RULES, ttl: '1h' });
    expect((await createTokenVerifier(set, RULES)(token)).subject).toBe('alice');
  });

  it('allows the clock tolerance on exp, nbf and iat', async () => {
    const now = nowSeconds();
    await expect(verify(await craft(HUB_CLAIMS, { expiresAt: now - 10 }))).resolves.toBeDefined();
    await expect(verify(await craft(HUB_CLAIMS, { notBefore: now + 10 }))).resolves.toBeDefined();
    await expect(verify(await craft(HUB_CLAIMS, { issuedAt: now + 10 }))).resolves.toBeDefined();
  });

  it('ignores jku, x5u and jwk headers: the key comes from the hub’s set by kid alone', async () => {
    const { publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const token = await craft(HUB_CLAIMS, {
      header: {
        jku: 'https://attacker.invalid/jwks.json',
        x5u: 'https://attacker.invalid/cert.pem',
        jwk: await exportJWK(publicKey),
      },
    });
    expect((await verify(token)).subject).toBe('alice');
  });

  it('accepts a lifetime of exactly the maximum', async () => {
    const now = nowSeconds();
    const token = await craft(HUB_CLAIMS, { issuedAt: now, expiresAt: now + RULES.maxLifetimeSeconds });
    await expect(verify(token)).resolves.toBeDefined();
  });
});

describe('createTokenVerifier: a token verified once', () => {
  it('is refused again from the moment it expires, as on its first check', async () => {
    let clock = Date.now();
    const verifier = createTokenVerifier(keySet, { ...RULES, now: () => clock });
    const expiresAt = Math.floor(clock / 1000) + 60;
    const token = await craft(HUB_CLAIMS, { expiresAt });
    await expect(verifier(token)).resolves.toMatchObject({ subject: 'alice' });
    clock = (expiresAt + RULES.clockToleranceSeconds - 1) * 1000;
    await expect(verifier(token)).resolves.toMatchObject({ subject: 'alice' });
    clock = (expiresAt + RULES.clockToleranceSeconds) * 1000;
    expect(await refusal(token, verifier)).toBe('the token has expired');
  });

  it('is checked again once the key set changes: a retired key stops its tokens at once', async () => {
    let current = keySet;
    const verifier = createTokenVerifier({ current: () => current }, RULES);
    const token = await craft();
    await expect(verifier(token)).resolves.toMatchObject({ subject: 'alice' });
    current = otherKeySet;
    expect(await refusal(token, verifier)).toBe('the token was not signed by a key of this hub (kid)');
    current = { keys: [...keySet.keys] };
    await expect(verifier(token)).resolves.toMatchObject({ subject: 'alice' });
  });

  it('is known by its exact bytes: the same token with another signature is refused', async () => {
    const verifier = createTokenVerifier(keySet, RULES);
    const token = await craft();
    await expect(verifier(token)).resolves.toBeDefined();
    const [header, payload, signature] = token.split('.');
    const flipped = signature!.startsWith('A') ? `B${signature!.slice(1)}` : `A${signature!.slice(1)}`;
    expect(await refusal(`${header}.${payload}.${flipped}`, verifier)).toBe(
      'the token signature is not valid',
    );
    const forged = await craft(HUB_CLAIMS, { key: otherKey, header: { kid: signingKey.kid } });
    expect(await refusal(forged, verifier)).toBe('the token signature is not valid');
  });

  it('hands every caller a principal of its own', async () => {
    const verifier = createTokenVerifier(keySet, RULES);
    const token = await craft();
    const first = await verifier(token);
    first.roles.push('admin');
    expect((await verifier(token)).roles).toEqual(['reporter']);
    const second = await verifier(token);
    second.roles.push('admin');
    expect((await verifier(token)).roles).toEqual(['reporter']);
  });

  it('is not kept when refused: a token not valid yet is accepted once its time comes', async () => {
    let clock = Date.now();
    const verifier = createTokenVerifier(keySet, { ...RULES, now: () => clock });
    const notBefore = Math.floor(clock / 1000) + 120;
    const token = await craft(HUB_CLAIMS, { notBefore, expiresAt: notBefore + 3600 });
    expect(await refusal(token, verifier)).toBe('the token is not valid yet (nbf)');
    clock = notBefore * 1000;
    await expect(verifier(token)).resolves.toMatchObject({ subject: 'alice' });
  });
});

describe('createTokenVerifier: every attack is a generic 401 with a reason for the log', () => {
  it('refuses an expired token', async () => {
    expect(await refusal(await craft(HUB_CLAIMS, { expiresAt: nowSeconds() - 120 }))).toBe(
      'the token has expired',
    );
  });

  it('refuses a token whose nbf is in the future', async () => {
    expect(await refusal(await craft(HUB_CLAIMS, { notBefore: nowSeconds() + 600 }))).toMatch(/nbf/);
  });

  it('refuses a token issued in the future', async () => {
    expect(await refusal(await craft(HUB_CLAIMS, { issuedAt: nowSeconds() + 600 }))).toMatch(/iat/);
  });

  it.each([
    ['a wrong iss', { issuer: 'someone-else' }, /"iss"/],
    ['no iss', { issuer: null }, /"iss"/],
    ['a wrong aud', { audience: 'other-api' }, /"aud"/],
    ['no aud', { audience: null }, /"aud"/],
    ['no exp', { expiresAt: null }, /"exp"/],
    ['no iat', { issuedAt: null }, /"iat"/],
    ['no sub', { subject: null }, /"sub"/],
  ] as const)('refuses a token with %s', async (_label, options, reason) => {
    expect(await refusal(await craft(HUB_CLAIMS, options))).toMatch(reason);
  });

  it('refuses a lifetime longer than the maximum', async () => {
    const now = nowSeconds();
    const token = await craft(HUB_CLAIMS, { issuedAt: now, expiresAt: now + RULES.maxLifetimeSeconds + 1 });
    expect(await refusal(token)).toMatch(/lives longer/);
  });

  it('refuses an unsigned token (alg none)', async () => {
    const exp = nowSeconds() + 3600;
    const token = `${encode({ alg: 'none', typ: 'JWT', kid: signingKey.kid })}.${encode({ ...CLAIMS, ...HUB_CLAIMS, iss: 'renkei', aud: 'renkei-api', iat: nowSeconds(), exp })}.`;
    expect(await refusal(token)).toMatch(/"none" is not accepted/);
  });

  it('refuses HS256 signed with the public key as the secret', async () => {
    const header = encode({ alg: 'HS256', typ: 'JWT', kid: signingKey.kid });
    const payload = encode({
      ...HUB_CLAIMS,
      sub: 'alice',
      iss: 'renkei',
      aud: 'renkei-api',
      iat: nowSeconds(),
      exp: nowSeconds() + 3600,
    });
    const publicJwk = keySet.keys[0]!;
    for (const secret of [JSON.stringify(publicJwk), publicJwk.x!, Buffer.from(publicJwk.x!, 'base64url')]) {
      const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      expect(await refusal(`${header}.${payload}.${signature}`)).toMatch(/"HS256" is not accepted/);
    }
  });

  it('refuses a token without a kid', async () => {
    const key = await importJWK(signingKey, 'EdDSA');
    const token = await new SignJWT({ ...HUB_CLAIMS })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setSubject('alice')
      .setIssuer('renkei')
      .setAudience('renkei-api')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key);
    expect(await refusal(token)).toMatch(/kid/);
  });

  it('refuses an unknown kid', async () => {
    expect(await refusal(await craft(HUB_CLAIMS, { key: { ...signingKey, kid: 'unknown-kid' } }))).toMatch(
      /not signed by a key of this hub/,
    );
  });

  it('refuses a token signed by another key set, even with a jku header pointing at it', async () => {
    const token = await craft(HUB_CLAIMS, {
      key: otherKey,
      header: { jku: 'https://attacker.invalid/jwks.json' },
    });
    expect(await refusal(token)).toMatch(/not signed by a key of this hub/);
    // The other hub accepts it: the refusal is about the key, nothing else.
    expect((await createTokenVerifier(otherKeySet, RULES)(token)).subject).toBe('alice');
  });

  it('refuses a token with an embedded jwk of the attacker’s key', async () => {
    const token = await craft(HUB_CLAIMS, {
      key: { ...otherKey, kid: signingKey.kid! },
      header: { jwk: otherKeySet.keys[0] },
    });
    expect(await refusal(token)).toMatch(/signature is not valid/);
  });

  it('refuses a token whose kid is the hub’s but whose signature is not', async () => {
    const forged = await craft(
      { org: 'acme-bank', sector: 'finance', roles: ['analyst'] },
      { key: { ...otherKey, kid: signingKey.kid! } },
    );
    expect(await refusal(forged)).toBe('the token signature is not valid');
  });

  it('refuses a token whose payload was altered', async () => {
    const token = await mintToken(signingKey, CLAIMS, { ...RULES, ttl: '1h' });
    const [header, , signature] = token.split('.');
    const payload = encode({ ...decodeJwt(token), roles: ['analyst'] });
    expect(await refusal(`${header}.${payload}.${signature}`)).toBe('the token signature is not valid');
  });

  it('refuses an unknown crit header', async () => {
    // jose will not sign one either, so the token is signed by hand with the hub's own key.
    const header = encode({
      alg: 'EdDSA',
      kid: signingKey.kid,
      crit: ['x-renkei-unknown'],
      'x-renkei-unknown': 1,
    });
    const payload = encode({
      ...HUB_CLAIMS,
      sub: 'alice',
      iss: 'renkei',
      aud: 'renkei-api',
      iat: nowSeconds(),
      exp: nowSeconds() + 3600,
    });
    const key = createPrivateKey({ key: signingKey as JsonWebKey, format: 'jwk' });
    const signature = sign(null, Buffer.from(`${header}.${payload}`), key).toString('base64url');
    expect(await refusal(`${header}.${payload}.${signature}`)).toMatch(/not supported/);
  });

  it.each(['', 'not-a-jwt', 'a.b.c'])('refuses the malformed token %j', async (token) => {
    expect(await refusal(token)).toBe('the token is not a JWS');
  });

  it.each([
    ['a sector not in the list', { org: 'acme-bank', sector: 'retail', roles: ['reporter'] }, 'sector'],
    ['no roles', { org: 'acme-bank', sector: 'finance', roles: [] }, 'roles'],
    ['an unknown role', { org: 'acme-bank', sector: 'finance', roles: ['root'] }, 'roles[0]'],
    [
      'an organisation that is not a slug',
      { org: 'Acme Bank', sector: 'finance', roles: ['reporter'] },
      'org',
    ],
    ['no organisation', { sector: 'finance', roles: ['reporter'] }, 'org'],
  ])('refuses a correctly signed token with %s', async (_label, claims, field) => {
    const reason = await refusal(await craft(claims));
    expect(reason).toMatch(/^token claims are not valid: /);
    expect(reason).toContain(`${field}: `);
  });

  it('picks up a changed key set from its source', async () => {
    let current = keySet;
    const verifier = createTokenVerifier({ current: () => current }, RULES);
    const fromOther = await mintToken(otherKey, CLAIMS, { ...RULES, ttl: '1h' });
    await refusal(fromOther, verifier);
    current = { keys: [...keySet.keys, ...otherKeySet.keys] };
    expect((await verifier(fromOther)).subject).toBe('alice');
    current = keySet;
    await refusal(fromOther, verifier);
  });
});
