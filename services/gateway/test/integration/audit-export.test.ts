import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudits, sealAuditChain } from '@renkei/audit';
import type { HttpApp } from '@renkei/http';
import { createLogger } from '@renkei/runtime';
import type { AuditEntry, Role } from '@renkei/schema';
import { TEST_ORGANISATIONS, type TestDatabase, type TestKeys, type TestOrganisation } from '@renkei/testing';
import { auditExportLineSchema } from '../../src/routes/audit.js';
import { startInProcessGateway, type InProcessGateway } from '../support/in-process.js';

const entry = (n: number): AuditEntry => ({
  kind: 'search.performed',
  actor: `analyst-${n}`,
  organisationId: 'gsoc',
  object: null,
  outcome: 'success',
  details: { q: `query ${n}`, counts: { alerts: n } },
});

/** `GET /v1/audit/export` in this process, on a real database. */
describe('the audit export', () => {
  const logger = createLogger('audit-export-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let http: HttpApp;
  let gateway: InProcessGateway;
  const { gsoc, acmeBank } = TEST_ORGANISATIONS;
  const token = (organisation: TestOrganisation, roles: Role[]) =>
    keys.token({ org: organisation.id, sector: organisation.sector, roles });
  const get = async (url: string, bearer?: string) =>
    http.app.inject({ method: 'GET', url, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

  beforeAll(async () => {
    gateway = await startInProcessGateway({ organisations: [gsoc, acmeBank], logger });
    ({ database, keys, http } = gateway);
    // Three entries first, then more than one page (1,000) of sealed entries, then a few the sealer has not reached.
    await recordAudits(
      database.pool,
      [1, 2, 3].map((n) => ({ ...entry(n), kind: 'organisation.added', object: `early-${n}` })),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    await recordAudits(
      database.pool,
      Array.from({ length: 2_100 }, (_, n) => entry(n)),
    );
    await sealAuditChain(database.pool);
    await recordAudits(database.pool, [entry(9_001), entry(9_002)]);
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('streams every entry as JSON Lines with its place in the chain, as the database holds it', async () => {
    const response = await get('/v1/audit/export', await token(gsoc, ['admin']));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const lines = response.body
      .trimEnd()
      .split('\n')
      .map((line) => auditExportLineSchema.parse(JSON.parse(line)));
    const { rows } = await database.pool.query<{
      id: string;
      seq: string | null;
      hash: string | null;
      details: unknown;
      at: string;
    }>(
      `SELECT id::text AS id, chain_seq::text AS seq, chain_hash AS hash, details,
              to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at
         FROM audit_events ORDER BY chain_seq NULLS LAST, id`,
    );
    expect(rows).toHaveLength(2_105);
    expect(lines.map((line) => [line.id, line.chainSeq, line.chainHash, line.details, line.at])).toEqual(
      rows.map((row) => [row.id, row.seq, row.hash, row.details, row.at]),
    );
    expect(lines.at(-1)).toMatchObject({ chainSeq: null, chainHash: null, details: { q: 'query 9002' } });
  });

  it('filters by time and refuses a range that ends before it starts, naming until', async () => {
    const admin = await token(gsoc, ['admin']);
    const future = await get('/v1/audit/export?since=2999-01-01T00:00:00Z', admin);
    expect(future.statusCode).toBe(200);
    expect(future.body).toBe('');
    const { rows } = await database.pool.query<{ at: string }>(
      `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at FROM audit_events
        WHERE object IS NULL ORDER BY id LIMIT 1`,
    );
    const until = await get(`/v1/audit/export?until=${encodeURIComponent(rows[0]!.at)}`, admin);
    // Only the organisations' registration entries came before the first search entry.
    const before = until.body
      .trimEnd()
      .split('\n')
      .map((line) => auditExportLineSchema.parse(JSON.parse(line)));
    expect(before.length).toBeGreaterThan(0);
    for (const line of before) expect(line.at < rows[0]!.at).toBe(true);

    const backwards = await get(
      '/v1/audit/export?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z',
      admin,
    );
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json()).toMatchObject({ code: 'RENKEI_INVALID_REQUEST', fields: [{ field: 'until' }] });
    const garbage = await get('/v1/audit/export?since=yesterday', admin);
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().fields[0].field).toBe('since');
  });

  it('is for administrators only', async () => {
    expect((await get('/v1/audit/export')).statusCode).toBe(401);
    expect((await get('/v1/audit/export', await token(acmeBank, ['reporter']))).statusCode).toBe(403);
    expect((await get('/v1/audit/export', await token(gsoc, ['analyst']))).statusCode).toBe(403);
  });
});
