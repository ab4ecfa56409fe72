import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type RenkeiError } from '@renkei/runtime';
import { createMigratedTestDatabase, eventually, type TestDatabase } from '@renkei/testing';
import {
  listOrganisations,
  organisationsInSectors,
  registerOrganisation,
  setOrganisationEnabled,
  startRegistryCache,
  type OrganisationRegistry,
} from '../../src/index.js';

describe('the organisation registry', () => {
  const logger = createLogger('registry-test', 'silent');
  const actor = { subject: 'root-admin', organisationId: 'gsoc' };
  let database: TestDatabase;
  let cache: OrganisationRegistry;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
    // A long poll: whatever the cache learns within the test, it learns from notifications.
    cache = await startRegistryCache({
      pool: database.pool,
      databaseUrl: database.url,
      logger,
      pollEveryMs: 60_000,
    });
  });
  afterAll(async () => {
    await cache?.close();
    await database?.drop();
  });

  it('registers, disables and enables organisations, each change audited in the same transaction', async () => {
    const added = await registerOrganisation(
      database.pool,
      { id: 'water-ceptar', name: 'Water CEPTAR', sector: 'water', kind: 'ceptar' },
      actor,
    );
    expect(added).toMatchObject({ id: 'water-ceptar', enabled: true, sector: 'water', kind: 'ceptar' });
    await expect(
      registerOrganisation(
        database.pool,
        { id: 'water-ceptar', name: 'x', sector: 'gas', kind: 'ceptar' },
        actor,
      ),
    ).rejects.toMatchObject({ code: 'RENKEI_CONFLICT' } satisfies Partial<RenkeiError>);
    expect((await setOrganisationEnabled(database.pool, 'water-ceptar', false, actor))?.enabled).toBe(false);
    expect(await setOrganisationEnabled(database.pool, 'nobody', false, actor)).toBeUndefined();
    const { rows } = await database.pool.query<{ kind: string; actor: string; object: string }>(
      'SELECT kind, actor, object FROM audit_events ORDER BY id',
    );
    expect(rows).toEqual([
      { kind: 'organisation.added', actor: 'root-admin', object: 'water-ceptar' },
      { kind: 'organisation.disabled', actor: 'root-admin', object: 'water-ceptar' },
    ]);
  });

  it('keeps every process’s copy in step through notifications, whoever changes the table', async () => {
    const changes: number[] = [];
    const stop = cache.onChange(() => changes.push(Date.now()));
    await database.pool.query(
      `INSERT INTO organisations (id, name, sector, kind) VALUES ('rail-ceptar', 'Rail CEPTAR', 'railway', 'ceptar')`,
    );
    await eventually(() => expect(cache.get('rail-ceptar')?.sector).toBe('railway'), { timeoutMs: 5_000 });
    await database.pool.query(`UPDATE organisations SET enabled = false WHERE id = 'rail-ceptar'`);
    await eventually(() => expect(cache.get('rail-ceptar')?.enabled).toBe(false), { timeoutMs: 5_000 });
    expect(changes.length).toBeGreaterThanOrEqual(2);
    stop();
    expect(
      cache
        .list()
        .map((o) => o.id)
        .sort(),
    ).toEqual(['rail-ceptar', 'water-ceptar']);
  });

  it('falls back to polling when notifications are lost', async () => {
    const polled = await startRegistryCache({
      pool: database.pool,
      databaseUrl: database.url,
      logger,
      pollEveryMs: 200,
    });
    try {
      // Cut the listening connection from the server's side, as a restart or network fault would.
      await database.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'renkei-registry' AND datname = current_database()`,
      );
      await database.pool.query(
        `INSERT INTO organisations (id, name, sector, kind) VALUES ('gas-op', 'Gas operator', 'gas', 'operator')`,
      );
      await eventually(() => expect(polled.get('gas-op')).toBeDefined(), { timeoutMs: 5_000 });
    } finally {
      await polled.close();
    }
    await eventually(() => expect(cache.get('gas-op')).toBeDefined(), { timeoutMs: 5_000 }).catch(
      () => undefined,
    );
  });

  it('lists the enabled organisations of sectors, the GSOC left out', async () => {
    await registerOrganisation(
      database.pool,
      { id: 'gsoc', name: 'GSOC', sector: 'central-government', kind: 'gsoc' },
      actor,
    );
    await setOrganisationEnabled(database.pool, 'water-ceptar', true, actor);
    expect((await organisationsInSectors(database.pool, ['water', 'railway'])).map((o) => o.id)).toEqual([
      'water-ceptar',
    ]);
    expect((await organisationsInSectors(database.pool, null)).map((o) => o.id)).toEqual([
      'gas-op',
      'water-ceptar',
    ]);
    expect((await listOrganisations(database.pool)).map((o) => o.id)).toEqual([
      'gas-op',
      'gsoc',
      'rail-ceptar',
      'water-ceptar',
    ]);
  });
});
