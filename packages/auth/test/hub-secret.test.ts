import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSealer, deriveHubKey, ensureHubSecret, hubSecretFileIn } from '../src/hub-secret.js';

describe('hub secret', () => {
  it('is created once, private, and read back the same by racing processes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'renkei-secret-'));
    const file = hubSecretFileIn(dir);
    const secrets = await Promise.all(Array.from({ length: 8 }, () => ensureHubSecret(file)));
    expect(new Set(secrets.map((secret) => secret.toString('hex'))).size).toBe(1);
    expect(secrets[0]).toHaveLength(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(secrets[0]!.toString('hex'));
  });

  it('refuses a file that is not a secret', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'renkei-secret-'));
    const file = path.join(dir, 'bad');
    await writeFile(file, 'short\n');
    await expect(ensureHubSecret(file)).rejects.toThrow(/not a hub secret/);
  });

  it('derives different keys for different purposes', () => {
    const secret = Buffer.alloc(32, 7);
    expect(deriveHubKey(secret, 'cursor').equals(deriveHubKey(secret, 'import-id'))).toBe(false);
    expect(deriveHubKey(secret, 'cursor').equals(deriveHubKey(secret, 'cursor'))).toBe(true);
  });
});

describe('sealer', () => {
  const sealer = createSealer(deriveHubKey(Buffer.alloc(32, 1), 'cursor'));

  it('opens what it sealed, for every edge of the range', () => {
    for (const value of [0n, 1n, 2n, 41n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      const token = sealer.seal(value);
      expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(sealer.open(token)).toBe(value);
      expect(sealer.seal(value)).toBe(token);
    }
  });

  it('gives tokens that show neither the value nor its order', () => {
    const tokens = Array.from({ length: 50 }, (_, index) => sealer.seal(BigInt(index + 1)));
    expect(new Set(tokens).size).toBe(50);
    expect(tokens.some((token, index) => index > 0 && token < tokens[index - 1]!)).toBe(true);
    for (const token of tokens) expect(token).not.toMatch(/^\d+$/);
  });

  it('refuses forged, altered and foreign tokens', () => {
    const token = sealer.seal(5n);
    const altered = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    const foreign = createSealer(deriveHubKey(Buffer.alloc(32, 2), 'cursor')).seal(5n);
    for (const bad of [altered, foreign, '5', '', 'x'.repeat(22), token + 'A', 'AAAAAAAAAAAAAAAAAAAAAA']) {
      expect(sealer.open(bad)).toBeUndefined();
    }
  });

  it('refuses values outside 64 unsigned bits', () => {
    expect(() => sealer.seal(-1n)).toThrow(RangeError);
    expect(() => sealer.seal(2n ** 64n)).toThrow(RangeError);
  });
});
