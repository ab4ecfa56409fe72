import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenVerifier, keyFilesIn, readPublicKeySet } from '@renkei/auth';
import { USAGE, UsageError, runCommand } from '@renkei/cli';

let dir: string;
let env: Record<string, string | undefined>;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'renkei-cli-'));
  env = { RENKEI_STATE_DIR: dir };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function verify(token: string) {
  const keySet = await readPublicKeySet(keyFilesIn(dir).publicKeySet);
  return createTokenVerifier(keySet, { issuer: 'renkei', audience: 'renkei-api' })(token);
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

async function usageErrorOf(argv: string[]): Promise<UsageError> {
  const error = await runCommand(argv, env).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe('renkei token', () => {
  const base = ['token', '--org', 'x-csirt', '--sector', 'finance', '--role', 'reporter'];

  it('mints a compact JWT that verifies to the principal asked for', async () => {
    const token = await runCommand([...base, '--ttl', '30m'], env);

    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(await verify(token)).toEqual({
      subject: 'x-csirt-user',
      organisationId: 'x-csirt',
      sector: 'finance',
      roles: ['reporter'],
      expiresAt: new Date((payloadOf(token).exp as number) * 1000).toISOString(),
    });
    const payload = payloadOf(token);
    expect((payload.exp as number) - (payload.iat as number)).toBe(30 * 60);
    expect(payload.iss).toBe('renkei');
    expect(payload.aud).toBe('renkei-api');
  });

  it('defaults the lifetime to one hour', async () => {
    const payload = payloadOf(await runCommand(base, env));
    expect((payload.exp as number) - (payload.iat as number)).toBe(60 * 60);
  });

  it('gives several roles for repeated --role flags', async () => {
    const token = await runCommand([...base, '--role', 'analyst'], env);
    expect((await verify(token)).roles).toEqual(['reporter', 'analyst']);
  });

  it('uses --sub as the subject', async () => {
    const token = await runCommand([...base, '--sub', 'alice'], env);
    expect((await verify(token)).subject).toBe('alice');
  });

  it('signs every token with the same key', async () => {
    const first = await runCommand(base, env);
    const second = await runCommand([...base, '--ttl', '7d'], env);
    await expect(verify(first)).resolves.toMatchObject({ organisationId: 'x-csirt' });
    await expect(verify(second)).resolves.toMatchObject({ organisationId: 'x-csirt' });
  });

  it.each([
    ['a missing --org', ['token', '--sector', 'finance', '--role', 'reporter'], '--org'],
    ['a bad --org', ['token', '--org', 'X CSIRT', '--sector', 'finance', '--role', 'reporter'], '--org'],
    [
      'a bad --sector',
      ['token', '--org', 'x-csirt', '--sector', 'banking', '--role', 'reporter'],
      '--sector',
    ],
    ['a missing --sector', ['token', '--org', 'x-csirt', '--role', 'reporter'], '--sector'],
    ['no --role', ['token', '--org', 'x-csirt', '--sector', 'finance'], '--role'],
    ['a bad --role', ['token', '--org', 'x-csirt', '--sector', 'finance', '--role', 'boss'], '--role'],
    ['a bad --ttl', [...base, '--ttl', 'forever'], '--ttl'],
  ])('rejects %s naming the flag', async (_name, argv, flag) => {
    const error = await usageErrorOf(argv);
    expect(error.message).toContain(flag);
  });

  it('rejects an unknown option', async () => {
    const error = await usageErrorOf([...base, '--admin']);
    expect(error.message).toContain('--admin');
  });

  it('creates no key when the arguments are wrong', async () => {
    await usageErrorOf(['token', '--org', 'x-csirt', '--sector', 'banking', '--role', 'reporter']);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('renkei keys', () => {
  it('returns the path of the public key set, which exists', async () => {
    const output = await runCommand(['keys'], env);
    expect(output).toBe(keyFilesIn(dir).publicKeySet);
    await expect(access(output)).resolves.toBeUndefined();
    const keySet = await readPublicKeySet(output);
    expect(keySet.keys).toHaveLength(1);
    expect(keySet.keys[0]).not.toHaveProperty('d');
  });

  it('keeps the key it made', async () => {
    const file = await runCommand(['keys'], env);
    const first = await readPublicKeySet(file);
    expect(await runCommand(['keys'], env)).toBe(file);
    expect(await readPublicKeySet(file)).toEqual(first);
  });

  it('makes the key that tokens are signed with', async () => {
    await runCommand(['keys'], env);
    const token = await runCommand(
      ['token', '--org', 'y-isac', '--sector', 'telecom', '--role', 'ceptar'],
      env,
    );
    await expect(verify(token)).resolves.toMatchObject({ organisationId: 'y-isac', sector: 'telecom' });
  });
});

describe('other commands', () => {
  it.each([[['help']], [['--help']], [[]]])('%j returns the usage text', async (argv) => {
    const output = await runCommand(argv, env);
    expect(output).toBe(USAGE.trimEnd());
    expect(output).toContain('usage: renkei');
  });

  it('rejects an unknown command with a UsageError', async () => {
    const error = await usageErrorOf(['frobnicate']);
    expect(error.message).toContain('frobnicate');
    expect(error.name).toBe('UsageError');
  });
});
