import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Bytes of randomness in a hub secret: 256 bits, as HKDF-SHA256 and AES-256 want. */
const SECRET_BYTES = 32;

/** Where a local hub keeps its secret when `HUB_SECRET_FILE` does not say: beside its signing keys. */
export function hubSecretFileIn(stateDir: string): string {
  return path.join(stateDir, 'keys', 'hub-secret');
}

/**
 * The hub's own secret, created on first use (64 hex digits, mode 0600). Every
 * process of one hub must read the same file: tokens sealed by one gateway are
 * opened by another, and ids derived by one ingest must be derived alike by the
 * next. Safe when several processes race, as `ensureSigningKey` is: written
 * under a temporary name and linked into place, so one creator wins.
 */
export async function ensureHubSecret(file: string): Promise<Buffer> {
  const existing = await readHubSecret(file);
  if (existing) return existing;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  const temporary = `${file}.${randomUUID()}.tmp`;
  await writeFile(temporary, randomBytes(SECRET_BYTES).toString('hex') + '\n', { mode: 0o600 });
  try {
    await link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(temporary, { force: true });
  }
  const created = await readHubSecret(file);
  if (!created) throw new Error(`could not create the hub secret ${file}`);
  return created;
}

async function readHubSecret(file: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!/^[0-9a-f]{64,}$/i.test(text)) {
    throw new Error(`${file} is not a hub secret (64 or more hex digits expected)`);
  }
  return Buffer.from(text, 'hex');
}

/**
 * A key for one purpose only (HKDF-SHA256): a key that seals cursors never
 * derives import ids, so one use can never be turned against the other.
 */
export function deriveHubKey(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `renkei:${purpose}`, SECRET_BYTES));
}

/**
 * Seals 64-bit unsigned integers (feed positions) into opaque tokens and opens
 * them again. A token is one AES-256 block holding the value and eight zero
 * bytes: deterministic (the same value always gives the same token, so a token
 * can be compared and handed back), unordered and undecodable without the key
 * (a holder learns nothing of the values between two tokens), and forged or
 * altered tokens open to non-zero check bytes and are refused (a 2^-64 chance).
 */
export interface Sealer {
  seal(value: bigint): string;
  /** The sealed value, or undefined when the token was not sealed with this key. */
  open(token: string): bigint | undefined;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22}$/;
const MAX_U64 = (1n << 64n) - 1n;

export function createSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new Error('a sealer key is 32 bytes');
  return {
    seal(value) {
      if (value < 0n || value > MAX_U64) throw new RangeError('only unsigned 64-bit values can be sealed');
      const block = Buffer.alloc(16);
      block.writeBigUInt64BE(value, 0);
      const cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
      return Buffer.concat([cipher.update(block), cipher.final()]).toString('base64url');
    },
    open(token) {
      if (!TOKEN_PATTERN.test(token)) return undefined;
      const bytes = Buffer.from(token, 'base64url');
      if (bytes.length !== 16) return undefined;
      const decipher = createDecipheriv('aes-256-ecb', key, null).setAutoPadding(false);
      const block = Buffer.concat([decipher.update(bytes), decipher.final()]);
      if (block.readBigUInt64BE(8) !== 0n) return undefined;
      return block.readBigUInt64BE(0);
    },
  };
}
