import { randomUUID } from 'node:crypto';
import { mkdir, link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

/** What the hub signs with unless told otherwise. */
export const SIGNING_ALGORITHM = 'EdDSA';

/** The only algorithms a token may be signed with: asymmetric, with no parameters to get wrong. */
export const ACCEPTED_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export type SigningAlgorithm = (typeof ACCEPTED_ALGORITHMS)[number];

export interface KeyFiles {
  /** The current private signing key (JWK, mode 0600). Only the token CLI reads it. */
  signingKey: string;
  /** Public key set the services verify tokens against: the signing key and any not yet retired. */
  publicKeySet: string;
}

export function keyFilesIn(stateDir: string): KeyFiles {
  const dir = path.join(stateDir, 'keys');
  return { signingKey: path.join(dir, 'signing-key.jwk.json'), publicKeySet: path.join(dir, 'jwks.json') };
}

export interface JsonWebKeySet {
  keys: JWK[];
}

function publicPart(privateJwk: JWK): JWK {
  const { d: _private, ...rest } = privateJwk;
  return { ...rest, use: 'sig' };
}

async function generateSigningKey(algorithm: SigningAlgorithm): Promise<JWK> {
  const { privateKey } =
    algorithm === 'EdDSA'
      ? await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
      : await generateKeyPair('ES256', { extractable: true });
  const fresh = await exportJWK(privateKey);
  fresh.alg = algorithm;
  fresh.kid = await calculateJwkThumbprint(fresh);
  return fresh;
}

/**
 * Returns the hub's signing key, creating it on first use, and makes sure the
 * public set holds it (other keys in the set, not yet retired, stay). Safe
 * when several processes race: the key is written under a temporary name and
 * linked into place, so exactly one creator wins and the others read its key.
 */
export async function ensureSigningKey(files: KeyFiles): Promise<JWK> {
  let privateJwk = await readJwk(files.signingKey);
  if (!privateJwk) {
    // The folder is readable so services running as another user can read the public set;
    // the private key itself is 0600.
    await mkdir(path.dirname(files.signingKey), { recursive: true, mode: 0o755 });
    const fresh = await generateSigningKey(SIGNING_ALGORITHM);
    const temporary = `${files.signingKey}.${randomUUID()}.tmp`;
    await writeFile(temporary, JSON.stringify(fresh, null, 2) + '\n', { mode: 0o600 });
    try {
      await link(temporary, files.signingKey);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(temporary, { force: true });
    }
    privateJwk = await readJwk(files.signingKey);
    if (!privateJwk) throw new Error(`could not create ${files.signingKey}`);
  }
  const existing = await readKeySetIfAny(files.publicKeySet);
  if (!existing?.keys.some((key) => key.kid === privateJwk.kid)) {
    await writePublicKeySet(files, [publicPart(privateJwk), ...(existing?.keys ?? [])]);
  }
  return privateJwk;
}

export interface Rotation {
  kid: string;
  previousKid: string | undefined;
}

/**
 * Makes a new signing key. Its public half is published first, so tokens it
 * signs verify as soon as services read the set again; the previous key stays
 * in the set, and keeps verifying the tokens it signed, until it is retired.
 */
export async function rotateSigningKey(
  files: KeyFiles,
  algorithm: SigningAlgorithm = SIGNING_ALGORITHM,
): Promise<Rotation> {
  await mkdir(path.dirname(files.signingKey), { recursive: true, mode: 0o755 });
  const previous = await readJwk(files.signingKey);
  const fresh = await generateSigningKey(algorithm);
  const existing = (await readKeySetIfAny(files.publicKeySet))?.keys ?? [];
  const kept = previous && !existing.some((key) => key.kid === previous.kid) ? [publicPart(previous)] : [];
  await writePublicKeySet(files, [publicPart(fresh), ...kept, ...existing]);
  const temporary = `${files.signingKey}.${randomUUID()}.tmp`;
  await writeFile(temporary, JSON.stringify(fresh, null, 2) + '\n', { mode: 0o600 });
  await rename(temporary, files.signingKey);
  return { kid: fresh.kid!, previousKid: previous?.kid };
}

export class KeyRetirementError extends Error {
  override readonly name = 'KeyRetirementError';
}

/**
 * Removes a key from the public set: tokens it signed stop verifying once
 * services read the set again. The key that signs new tokens cannot be retired.
 */
export async function retireKey(files: KeyFiles, kid: string): Promise<void> {
  const current = await readJwk(files.signingKey);
  if (current?.kid === kid) {
    throw new KeyRetirementError(`${kid} is the current signing key: rotate first, then retire it`);
  }
  const set = await readKeySetIfAny(files.publicKeySet);
  if (!set?.keys.some((key) => key.kid === kid)) {
    throw new KeyRetirementError(`no key ${kid} in ${files.publicKeySet}`);
  }
  await writePublicKeySet(
    files,
    set.keys.filter((key) => key.kid !== kid),
  );
}

async function writePublicKeySet(files: KeyFiles, keys: JWK[]): Promise<void> {
  const unique = keys.filter((key, index) => keys.findIndex((other) => other.kid === key.kid) === index);
  const keySet: JsonWebKeySet = { keys: unique };
  const temporary = `${files.publicKeySet}.${randomUUID()}.tmp`;
  await writeFile(temporary, JSON.stringify(keySet, null, 2) + '\n', { mode: 0o644 });
  // A rename replaces the set whole: a service never reads half of it.
  await rename(temporary, files.publicKeySet);
}

async function readJwk(file: string): Promise<JWK | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function readKeySetIfAny(file: string): Promise<JsonWebKeySet | undefined> {
  try {
    return parseKeySet(await readFile(file, 'utf8'), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseKeySet(text: string, file: string): JsonWebKeySet {
  const parsed = JSON.parse(text) as Partial<JsonWebKeySet>;
  if (!Array.isArray(parsed.keys)) throw new Error(`${file} holds no keys`);
  return { keys: parsed.keys };
}

export async function readPublicKeySet(file: string): Promise<JsonWebKeySet> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`no public key set at ${file}: run "pnpm renkei keys" (or "npm run up") first`, {
        cause: error,
      });
    }
    throw error;
  }
  const parsed = parseKeySet(text, file);
  if (parsed.keys.length === 0) throw new Error(`${file} holds no keys`);
  return parsed;
}
