import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedTestDatabase, type TestDatabase } from '@renkei/testing';
import { recordAudit } from '../../src/index.js';

describe('the audit log', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createMigratedTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('records an event, and refuses to change or remove it', async () => {
    await recordAudit(database.pool, {
      kind: 'token.refused',
      actor: null,
      organisationId: null,
      object: null,
      outcome: 'denied',
      details: { reason: 'the token has expired' },
    });
    const { rows } = await database.pool.query<{ kind: string; outcome: string; details: unknown }>(
      'SELECT kind, outcome, details FROM audit_events',
    );
    expect(rows).toEqual([
      { kind: 'token.refused', outcome: 'denied', details: { reason: 'the token has expired' } },
    ]);
    await expect(database.pool.query(`UPDATE audit_events SET outcome = 'success'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(database.pool.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
    await expect(database.pool.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
  });

  it('refuses an entry of an unknown kind before it reaches the database', async () => {
    await expect(
      recordAudit(database.pool, {
        kind: 'coffee.made' as never,
        actor: 'x',
        organisationId: null,
        object: null,
        outcome: 'success',
      }),
    ).rejects.toThrow();
  });
});
