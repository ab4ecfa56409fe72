import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyFilesIn, readPublicKeySet } from '@renkei/auth';
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

async function usageErrorOf(argv: string[]): Promise<UsageError> {
  const error = await runCommand(argv, env).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe('renkei token: arguments are checked before the registry is asked', () => {
  const base = ['token', '--org', 'x-csirt', '--sector', 'finance', '--role', 'reporter'];

  it.each([
    ['a missing --org', ['token', '--sector', 'finance', '--role', 'reporter'], '--org'],
    ['a bad --org', ['token', '--org', 'X CSIRT', '--sector', 'finance', '--role', 'reporter'], '--org'],
    [
      'a bad --sector',
      ['token', '--org', 'x-csirt', '--sector', 'banking', '--role', 'reporter'],
      '--sector',
    ],
    ['no --role', ['token', '--org', 'x-csirt', '--sector', 'finance'], '--role'],
    ['a bad --role', ['token', '--org', 'x-csirt', '--sector', 'finance', '--role', 'boss'], '--role'],
    ['a bad --ttl', [...base, '--ttl', 'forever'], '--ttl'],
    ['a --ttl over the maximum lifetime', [...base, '--ttl', '31d'], '--ttl'],
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
});

describe('other commands', () => {
  it.each([[['help']], [['--help']], [[]]])('%j returns the usage text', async (argv) => {
    const output = await runCommand(argv, env);
    expect(output).toBe(USAGE.trimEnd());
    expect(output).toContain('usage: renkei');
    for (const command of ['token', 'keys rotate', 'keys retire', 'org add', 'org list', 'org disable']) {
      expect(output).toContain(command);
    }
  });

  it.each([
    [['org'], 'org: unknown action'],
    [['org', 'add', '--id', 'Bad Id', '--name', 'x', '--sector', 'finance', '--kind', 'ceptar'], '--id'],
    [['org', 'add', '--id', 'x', '--name', 'x', '--sector', 'finance', '--kind', 'bank'], '--kind'],
    [['org', 'disable'], 'give one organisation id'],
    [['keys', 'rotate', '--alg', 'HS256'], '--alg'],
    [['keys', 'retire'], 'give one key id'],
    [['keys', 'shred'], 'keys: unknown action'],
  ])('%j is a usage error before anything is touched', async (argv, message) => {
    expect((await usageErrorOf(argv)).message).toContain(message);
    expect(await readdir(dir)).toEqual([]);
  });

  it('rejects an unknown command with a UsageError', async () => {
    const error = await usageErrorOf(['frobnicate']);
    expect(error.message).toContain('frobnicate');
    expect(error.name).toBe('UsageError');
  });
});
