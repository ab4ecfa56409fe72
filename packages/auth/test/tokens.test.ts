import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenkeiError } from '@renkei/runtime';
import type { TokenClaims } from '@renkei/schema';
import {
  createTokenVerifier,
  ensureSigningKey,
  keyFilesIn,
  mintToken,
  readPublicKeySet,
  type JsonWebKeySet,
  type TokenVerifier,
} from '../src/index.js';

const AUDIENCE = { issuer: 'renkei', audience: 'renkei-api' };
const CLAIMS: TokenClaims = { sub: 'alice', org: 'acme-bank', sector: 'finance', roles: ['reporter'] };

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
  verify = createTokenVerifier(keySet, AUDIENCE);
});

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  dirs = [];
});

/** Signs arbitrary claims with the hub's key, for tokens mintToken would not make (null leaves a claim out). */
async function craft(
  payload: Record<string, unknown>,
  {
    key = signingKey,
    issuer = AUDIENCE.issuer,
    audience = AUDIENCE.audience,
    expiresAt = (Math.floor(Date.now() / 1000) + 3600) as number | null,
    subject = 'alice' as string | null,
  } = {},
): Promise<string> {
  let jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: key.kid! })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt();
  if (expiresAt !== null) jwt = jwt.setExpirationTime(expiresAt);
  if (subject !== null) jwt = jwt.setSubject(subject);
  return jwt.sign(await importJWK(key, 'EdDSA'));
}

async function rejection(token: string, verifier: TokenVerifier = verify): Promise<RenkeiError> {
  const error = await verifier(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RenkeiError);
  const renkeiError = error as RenkeiError;
  expect(renkeiError.code).toBe('RENKEI_UNAUTHENTICATED');
  expect(renkeiError.status).toBe(401);
  return renkeiError;
}

describe('mintToken', () => {
  it('signs an EdDSA JWT carrying the hub claims', async () => {
    const token = await mintToken(signingKey, CLAIMS, { ...AUDIENCE, ttl: '1h' });
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

  it('omits kid when the key has none', async () => {
    const { kid: _kid, ...withoutKid } = signingKey;
    const token = await mintToken(withoutKid, CLAIMS, { ...AUDIENCE, ttl: '5m' });
    expect(decodeProtectedHeader(token)).not.toHaveProperty('kid');
    expect((await verify(token)).subject).toBe('alice');
  });
});

describe('createTokenVerifier', () => {
  it('round-trips a minted token to its principal', async () => {
    const token = await mintToken(signingKey, CLAIMS, { ...AUDIENCE, ttl: '1h' });
    expect(await verify(token)).toEqual({
      subject: 'alice',
      organisationId: 'acme-bank',
      sector: 'finance',
      roles: ['reporter'],
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('removes duplicate roles', async () => {
    const token = await mintToken(
      signingKey,
      { ...CLAIMS, roles: ['analyst', 'reporter', 'analyst'] },
      { ...AUDIENCE, ttl: '1h' },
    );
    expect((await verify(token)).roles).toEqual(['analyst', 'reporter']);
  });

  it('rejects a token from another issuer', async () => {
    const token = await mintToken(signingKey, CLAIMS, {
      issuer: 'someone-else',
      audience: 'renkei-api',
      ttl: '1h',
    });
    expect((await rejection(token)).message).toBe('token claim "iss" is not valid');
  });

  it('rejects a token for another audience', async () => {
    const token = await mintToken(signingKey, CLAIMS, { issuer: 'renkei', audience: 'other-api', ttl: '1h' });
    expect((await rejection(token)).message).toBe('token claim "aud" is not valid');
  });

  it('rejects an expired token', async () => {
    const token = await craft(
      { org: 'acme-bank', sector: 'finance', roles: ['reporter'] },
      { expiresAt: Math.floor(Date.now() / 1000) - 60 },
    );
    const error = await rejection(token);
    expect(error.message).toBe('the token has expired');
    expect(error.cause).toBeDefined();
  });

  it('rejects a token without an expiry', async () => {
    const token = await craft(
      { org: 'acme-bank', sector: 'finance', roles: ['reporter'] },
      { expiresAt: null },
    );
    await rejection(token);
  });

  it('rejects a token without a subject', async () => {
    const token = await craft(
      { org: 'acme-bank', sector: 'finance', roles: ['reporter'] },
      { subject: null },
    );
    await rejection(token);
  });

  it('rejects a token signed by another key set', async () => {
    const token = await mintToken(otherKey, CLAIMS, { ...AUDIENCE, ttl: '1h' });
    expect((await rejection(token)).message).toBe('the token was not signed by a key of this hub');
    // The other hub accepts it: the rejection is about the key, nothing else.
    expect((await createTokenVerifier(otherKeySet, AUDIENCE)(token)).subject).toBe('alice');
  });

  it('rejects a token whose kid is the hub’s but whose signature is not', async () => {
    const forged = await craft(
      { org: 'acme-bank', sector: 'finance', roles: ['analyst'] },
      { key: { ...otherKey, kid: signingKey.kid! } },
    );
    expect((await rejection(forged)).message).toBe('the token signature is not valid');
  });

  it('rejects a token whose payload was altered', async () => {
    const token = await mintToken(signingKey, CLAIMS, { ...AUDIENCE, ttl: '1h' });
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ ...decodeJwt(token), roles: ['analyst'] })).toString(
      'base64url',
    );
    await rejection(`${header}.${payload}.${signature}`);
  });

  it.each(['', 'not-a-jwt', 'a.b.c'])('rejects the malformed token %j', async (token) => {
    expect((await rejection(token)).message).toBe('the token is not valid');
  });

  it('rejects an unsigned (alg none) token', async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const token = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ ...CLAIMS, iss: 'renkei', aud: 'renkei-api', exp })}.`;
    await rejection(token);
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
  ])('rejects a correctly signed token with %s', async (_label, claims, field) => {
    const error = await rejection(await craft(claims));
    expect(error.message).toMatch(/^token claims are not valid: /);
    expect(error.message).toContain(`${field}: `);
  });
});
