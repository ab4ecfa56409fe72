import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { listMigrations } from '../src/index.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'renkei-migrations-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function files(...names: string[]): Promise<void> {
  for (const name of names) await writeFile(path.join(dir, name), `-- ${name}\nSELECT 1;\n`);
}

describe('listMigrations', () => {
  it('lists nothing for an empty directory', async () => {
    expect(await listMigrations(dir)).toEqual([]);
  });

  it('sorts migrations by version and reads their names', async () => {
    await files('0003_alerts.sql', '0001_init.sql', '0002_reports_index.sql');
    expect(await listMigrations(dir)).toEqual([
      { version: 1, name: 'init', file: path.join(dir, '0001_init.sql') },
      { version: 2, name: 'reports_index', file: path.join(dir, '0002_reports_index.sql') },
      { version: 3, name: 'alerts', file: path.join(dir, '0003_alerts.sql') },
    ]);
  });

  it('sorts numerically past 9', async () => {
    await files(
      ...Array.from({ length: 12 }, (_, i) => `${String(12 - i).padStart(4, '0')}_step_${12 - i}.sql`),
    );
    expect((await listMigrations(dir)).map((m) => m.version)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
  });

  it('ignores files that are not .sql', async () => {
    await files('0001_init.sql', 'README.md', '0002_draft.sql.bak', '.gitkeep');
    await mkdir(path.join(dir, 'archive'));
    expect((await listMigrations(dir)).map((m) => m.name)).toEqual(['init']);
  });

  it.each([
    [['0002_second.sql'], 'expected 1, found 2'],
    [['0001_init.sql', '0003_third.sql'], 'expected 2, found 3'],
    [['0001_init.sql', '0002_a.sql', '0002_b.sql'], 'expected 3, found 2'],
    [['0000_zero.sql', '0001_init.sql'], 'expected 1, found 0'],
  ])('rejects a gap or repeat in %j', async (names, message) => {
    await files(...names);
    await expect(listMigrations(dir)).rejects.toThrow(message);
  });

  it.each([
    '1_init.sql',
    '001_init.sql',
    '00001_init.sql',
    '0001-init.sql',
    '0001_Init.sql',
    '0001_.sql',
    '0001_init table.sql',
    '0001.sql',
    'init.sql',
  ])('rejects the badly named file %s', async (name) => {
    await files(name);
    await expect(listMigrations(dir)).rejects.toThrow(
      `migration file name must look like 0001_name.sql: ${name}`,
    );
  });

  it('fails for a missing directory', async () => {
    await expect(listMigrations(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('the repository migrations', () => {
  it('are every .sql file in infra/postgres/migrations, numbered contiguously from 1', async () => {
    const files = (await readdir(path.join(REPOSITORY_ROOT, 'infra/postgres/migrations'))).filter((file) =>
      file.endsWith('.sql'),
    );
    const migrations = await listMigrations();
    expect(migrations.map((m) => path.basename(m.file))).toEqual(files.sort());
    expect(migrations.length).toBeGreaterThanOrEqual(2);
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    expect(migrations[0]!.version).toBe(1);
  });
});
