import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTokenVerifier, keyFilesIn, readPublicKeySet } from '@renkei/auth';
import { runCommand, UsageError } from '@renkei/cli';
import { createMigratedTestDatabase, type TestDatabase } from '@renkei/testing';

/** The commands that read or change the registry and the keys, on a real database. */
describe('renkei org, token and keys with the registry', () => {
  let database: TestDatabase;
  let dir: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'renkei-cli-'));
    env = { RENKEI_STATE_DIR: dir, DATABASE_URL: database.url };
    return () => rm(dir, { recursive: true, force: true });
  });

  const run = (...argv: string[]) => runCommand(argv, env);
  const usageError = (...argv: string[]) =>
    run(...argv).then(
      () => {
        throw new Error(`expected a usage error from ${argv.join(' ')}`);
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(UsageError);
        return (error as UsageError).message;
      },
    );
  const verify = async (token: string) =>
    createTokenVerifier(await readPublicKeySet(keyFilesIn(dir).publicKeySet), {
      issuer: 'renkei',
      audience: 'renkei-api',
      maxLifetimeSeconds: 30 * 86_400,
      clockToleranceSeconds: 30,
    })(token);
  const auditKinds = async () =>
    (
      await database.pool.query<{ kind: string; actor: string; object: string }>(
        'SELECT kind, actor, object FROM audit_events ORDER BY id',
      )
    ).rows;

  it('adds, lists, disables and enables organisations, each change audited', async () => {
    expect(
      await run(
        'org',
        'add',
        '--id',
        'x-csirt',
        '--name',
        'X CSIRT',
        '--sector',
        'finance',
        '--kind',
        'agency',
      ),
    ).toBe('registered x-csirt (agency, finance)');
    expect(
      await usageError(
        'org',
        'add',
        '--id',
        'x-csirt',
        '--name',
        'again',
        '--sector',
        'water',
        '--kind',
        'ceptar',
      ),
    ).toMatch(/already registered/);
    expect(await run('org', 'disable', 'x-csirt')).toBe('disabled x-csirt');
    expect(await run('org', 'list')).toBe('x-csirt\tfinance\tagency\tdisabled\tja\tX CSIRT');
    expect(await run('org', 'enable', 'x-csirt')).toBe('enabled x-csirt');
    expect(await usageError('org', 'disable', 'nobody')).toMatch(/no organisation nobody/);
    expect(await run('org', 'set-language', 'x-csirt', 'en')).toBe('x-csirt now receives e-mail in English');
    expect(await run('org', 'list')).toBe('x-csirt\tfinance\tagency\tenabled\ten\tX CSIRT');
    expect(await usageError('org', 'set-language', 'x-csirt', 'fr')).toMatch(/ja or en/);
    expect(await usageError('org', 'set-language', 'nobody', 'ja')).toMatch(/no organisation nobody/);
    const audited = (await auditKinds()).filter((row) => row.object === 'x-csirt');
    expect(audited.map((row) => row.kind)).toEqual([
      'organisation.added',
      'organisation.disabled',
      'organisation.enabled',
      'organisation.changed',
    ]);
    expect(audited[0]!.actor).toMatch(/^cli:/);
  });

  it('mints a token for a registered organisation with the sector from the registry', async () => {
    await run('org', 'add', '--id', 'y-isac', '--name', 'Y ISAC', '--sector', 'telecom', '--kind', 'ceptar');
    const token = await run('token', '--org', 'y-isac', '--role', 'ceptar', '--ttl', '30m');
    expect(await verify(token)).toMatchObject({
      organisationId: 'y-isac',
      sector: 'telecom',
      roles: ['ceptar'],
    });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
      exp: number;
      iat: number;
    };
    expect(payload.exp - payload.iat).toBe(30 * 60);
    // --sector stays accepted and must match.
    await expect(run('token', '--org', 'y-isac', '--sector', 'telecom', '--role', 'ceptar')).resolves.toMatch(
      /\./,
    );
    expect(await usageError('token', '--org', 'y-isac', '--sector', 'finance', '--role', 'ceptar')).toMatch(
      /registered in sector telecom/,
    );
  });

  it('refuses an unknown organisation naming org add, a disabled one, and GSOC roles elsewhere', async () => {
    expect(await usageError('token', '--org', 'ghost-csirt', '--role', 'reporter')).toMatch(
      /renkei org add --id ghost-csirt/,
    );
    await run('org', 'add', '--id', 'z-op', '--name', 'Z', '--sector', 'water', '--kind', 'operator');
    expect(await usageError('token', '--org', 'z-op', '--role', 'analyst')).toMatch(
      /GSOC organisations only/,
    );
    await run('org', 'disable', 'z-op');
    expect(await usageError('token', '--org', 'z-op', '--role', 'reporter')).toMatch(/disabled/);
  });

  it('rotates and retires keys, audited: old tokens verify until the retirement', async () => {
    await run(
      'org',
      'add',
      '--id',
      'gsoc',
      '--name',
      'GSOC',
      '--sector',
      'central-government',
      '--kind',
      'gsoc',
    );
    const before = await run('token', '--org', 'gsoc', '--role', 'analyst');
    const oldKid = JSON.parse(Buffer.from(before.split('.')[0]!, 'base64url').toString()).kid as string;
    const rotated = await run('keys', 'rotate');
    expect(rotated).toContain(`renkei keys retire ${oldKid}`);
    const after = await run('token', '--org', 'gsoc', '--role', 'analyst');
    await expect(verify(before)).resolves.toMatchObject({ organisationId: 'gsoc' });
    await expect(verify(after)).resolves.toMatchObject({ organisationId: 'gsoc' });
    expect(
      await usageError(
        'keys',
        'retire',
        JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString()).kid,
      ),
    ).toMatch(/rotate first/);
    await run('keys', 'retire', oldKid);
    await expect(verify(before)).rejects.toThrow();
    await expect(verify(after)).resolves.toBeDefined();
    const keyEvents = (await auditKinds()).filter((row) => row.kind.startsWith('key.'));
    expect(keyEvents.map((row) => [row.kind, row.object])).toEqual([
      ['key.rotated', expect.any(String)],
      ['key.retired', oldKid],
    ]);
  });
});
