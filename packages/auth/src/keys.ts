import { randomUUID } from 'node:crypto';
import { mkdir, link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

export const SIGNING_ALGORITHM = 'EdDSA';

export interface KeyFiles {
  /** Private signing key (JWK, mode 0600). Only the token CLI reads it. */
  signingKey: string;
  /** Public key set the services verify tokens against. */
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

/**
 * Returns the hub's signing key, creating it on first use. Safe when several
 * processes race: the key is written under a temporary name and linked into
 * place, so exactly one creator wins and the others read its key.
 */
export async function ensureSigningKey(files: KeyFiles): Promise<JWK> {
  let privateJwk = await readJwk(files.signingKey);
  if (!privateJwk) {
    // The folder is readable so services running as another user can read the public set;
    // the private key itself is 0600.
    await mkdir(path.dirname(files.signingKey), { recursive: true, mode: 0o755 });
    const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { crv: 'Ed25519', extractable: true });
    const fresh = await exportJWK(privateKey);
    fresh.alg = SIGNING_ALGORITHM;
    fresh.kid = await calculateJwkThumbprint(fresh);
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
  await writePublicKeySet(files, privateJwk);
  return privateJwk;
}

async function writePublicKeySet(files: KeyFiles, privateJwk: JWK): Promise<void> {
  const keySet: JsonWebKeySet = { keys: [publicPart(privateJwk)] };
  const temporary = `${files.publicKeySet}.${randomUUID()}.tmp`;
  await writeFile(temporary, JSON.stringify(keySet, null, 2) + '\n', { mode: 0o644 });
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
  const parsed = JSON.parse(text) as JsonWebKeySet;
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error(`${file} holds no keys`);
  return parsed;
}
