import { mkdtemp, readFile, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KeyRetirementError,
  SIGNING_ALGORITHM,
  ensureSigningKey,
  keyFilesIn,
  readPublicKeySet,
  retireKey,
  rotateSigningKey,
  type KeyFiles,
} from '../src/index.js';

let stateDir: string;
let files: KeyFiles;

beforeEach(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'renkei-auth-keys-'));
  files = keyFilesIn(stateDir);
});

afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

describe('keyFilesIn', () => {
  it('puts both files in the keys directory of the state directory', () => {
    expect(keyFilesIn('/srv/state')).toEqual({
      signingKey: '/srv/state/keys/signing-key.jwk.json',
      publicKeySet: '/srv/state/keys/jwks.json',
    });
  });
});

describe('ensureSigningKey', () => {
  it('creates an Ed25519 signing key with a thumbprint kid', async () => {
    const key = await ensureSigningKey(files);
    expect(SIGNING_ALGORITHM).toBe('EdDSA');
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(typeof key.d).toBe('string');
    expect(typeof key.x).toBe('string');
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse(await readFile(files.signingKey, 'utf8'))).toEqual(key);
  });

  it('writes the private key readable by its owner only', async () => {
    await ensureSigningKey(files);
    expect((await stat(files.signingKey)).mode & 0o777).toBe(0o600);
    // The folder is readable (services may run as another user) but writable by its owner only.
    expect((await stat(path.dirname(files.signingKey))).mode & 0o022).toBe(0);
  });

  it('returns the same key on later calls', async () => {
    const first = await ensureSigningKey(files);
    const second = await ensureSigningKey(files);
    expect(second.kid).toBe(first.kid);
    expect(second.d).toBe(first.d);
  });

  it('agrees on one key when several callers race', async () => {
    const keys = await Promise.all(Array.from({ length: 5 }, () => ensureSigningKey(files)));
    const kids = new Set(keys.map((key) => key.kid));
    expect(kids.size).toBe(1);
    const onDisk = JSON.parse(await readFile(files.signingKey, 'utf8')) as { kid: string };
    expect(onDisk.kid).toBe(keys[0]!.kid);
    const publicSet = await readPublicKeySet(files.publicKeySet);
    expect(publicSet.keys.map((key) => key.kid)).toEqual([keys[0]!.kid]);
  });

  it('leaves no temporary files behind', async () => {
    await Promise.all(Array.from({ length: 3 }, () => ensureSigningKey(files)));
    expect((await readdir(path.dirname(files.signingKey))).sort()).toEqual([
      'jwks.json',
      'signing-key.jwk.json',
    ]);
  });

  it('keeps an existing key and rewrites the public set from it', async () => {
    const key = await ensureSigningKey(files);
    await rm(files.publicKeySet);
    expect((await ensureSigningKey(files)).kid).toBe(key.kid);
    expect((await readPublicKeySet(files.publicKeySet)).keys[0]!.kid).toBe(key.kid);
  });

  it('fails on a corrupt key file rather than replacing it', async () => {
    await mkdir(path.dirname(files.signingKey), { recursive: true });
    await writeFile(files.signingKey, '{ not json');
    await expect(ensureSigningKey(files)).rejects.toThrow(SyntaxError);
    expect(await readFile(files.signingKey, 'utf8')).toBe('{ not json');
  });
});

describe('readPublicKeySet', () => {
  it('holds the public half of the signing key, and never the private part', async () => {
    const key = await ensureSigningKey(files);
    const set = await readPublicKeySet(files.publicKeySet);
    expect(set.keys).toHaveLength(1);
    const [publicKey] = set.keys;
    expect(publicKey).not.toHaveProperty('d');
    expect(publicKey).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: key.x,
      alg: 'EdDSA',
      kid: key.kid,
      use: 'sig',
    });
    expect(await readFile(files.publicKeySet, 'utf8')).not.toContain(key.d!);
  });

  it('explains how to create a missing key set', async () => {
    const missing = path.join(stateDir, 'nowhere', 'jwks.json');
    const error = await readPublicKeySet(missing).then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: NodeJS.ErrnoException },
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toContain(missing);
    expect(error!.message).toContain('pnpm renkei keys');
    expect(error!.cause?.code).toBe('ENOENT');
  });

  it('refuses a key set with no keys', async () => {
    const file = path.join(stateDir, 'empty.json');
    await writeFile(file, JSON.stringify({ keys: [] }));
    await expect(readPublicKeySet(file)).rejects.toThrow(/holds no keys/);
    await writeFile(file, JSON.stringify({}));
    await expect(readPublicKeySet(file)).rejects.toThrow(/holds no keys/);
  });

  it('passes on other read errors', async () => {
    await expect(readPublicKeySet(stateDir)).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('rotateSigningKey and retireKey', () => {
  const kidsOf = async () => (await readPublicKeySet(files.publicKeySet)).keys.map((key) => key.kid);

  it('adds a new signing key and keeps the old one verifying until it is retired', async () => {
    const first = await ensureSigningKey(files);
    const rotation = await rotateSigningKey(files);
    expect(rotation.previousKid).toBe(first.kid);
    expect(rotation.kid).not.toBe(first.kid);
    expect(await kidsOf()).toEqual([rotation.kid, first.kid]);
    const current = JSON.parse(await readFile(files.signingKey, 'utf8')) as { kid: string };
    expect(current.kid).toBe(rotation.kid);
    expect((await stat(files.signingKey)).mode & 0o777).toBe(0o600);

    // Running `keys` or `token` afterwards keeps both.
    expect((await ensureSigningKey(files)).kid).toBe(rotation.kid);
    expect(await kidsOf()).toEqual([rotation.kid, first.kid]);

    await retireKey(files, first.kid!);
    expect(await kidsOf()).toEqual([rotation.kid]);
  });

  it('makes ES256 keys on request', async () => {
    await ensureSigningKey(files);
    await rotateSigningKey(files, 'ES256');
    const key = JSON.parse(await readFile(files.signingKey, 'utf8')) as Record<string, string>;
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
  });

  it('creates a key set when rotating on a fresh state directory', async () => {
    const rotation = await rotateSigningKey(files);
    expect(rotation.previousKid).toBeUndefined();
    expect(await kidsOf()).toEqual([rotation.kid]);
  });

  it('refuses to retire the current signing key or an unknown one', async () => {
    const key = await ensureSigningKey(files);
    await expect(retireKey(files, key.kid!)).rejects.toThrow(KeyRetirementError);
    await expect(retireKey(files, key.kid!)).rejects.toThrow(/rotate first/);
    await expect(retireKey(files, 'no-such-kid')).rejects.toThrow(/no key no-such-kid/);
    expect(await kidsOf()).toEqual([key.kid]);
  });
});
