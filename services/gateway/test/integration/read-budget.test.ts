import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCESS_SETTINGS, type ReadLimits } from '@renkei/auth';
import { createPool, type Pool } from '@renkei/db';
import type { HttpApp } from '@renkei/http';
import type { OrganisationRegistry } from '@renkei/registry';
import { createLogger } from '@renkei/runtime';
import {
  createMigratedTestDatabase,
  createTestKeys,
  eventually,
  registerOrganisations,
  TEST_ORGANISATIONS,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';
import { GATEWAY_READ_COSTS } from '../../src/read-costs.js';
import { TAXII_API_ROOT } from '../../src/routes/taxii.js';
import { buildInProcessGatewayApp, startTestRegistry } from '../support/in-process.js';
import { collectionId } from '../../src/taxii/collections.js';

const TAXII_ACCEPT = 'application/taxii+json;version=2.1';

/**
 * Reads on a budget (issue 16, defect 6): per organisation, weighted by what a
 * read costs, with a cap on exports and TAXII pages in flight. Each gateway
 * here runs its own small budget so the limits are reached in a few requests.
 */
describe('gateway read budget', () => {
  const logger = createLogger('gateway-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let registry: OrganisationRegistry;
  // Exports held in flight hold connections: more than the test database's own pool has.
  let pool: Pool;
  const apps: HttpApp[] = [];
  const tokens: Record<'finance' | 'finance2' | 'water' | 'analyst', string> = {
    finance: '',
    finance2: '',
    water: '',
    analyst: '',
  };

  const gateway = async (readLimits: ReadLimits, options: { publicTaxii?: boolean } = {}) => {
    const http = await buildInProcessGatewayApp({
      logger,
      pool,
      keys,
      registry,
      access: { ...DEFAULT_ACCESS_SETTINGS, readLimits },
      ...(options.publicTaxii ? { taxii: { publicWithoutToken: true } } : {}),
    });
    apps.push(http);
    return http;
  };
  const get = (http: HttpApp, token: string, url: string, accept?: string) =>
    http.app.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) },
    });

  beforeAll(async () => {
    [database, keys] = await Promise.all([createMigratedTestDatabase(), createTestKeys()]);
    await registerOrganisations(database, Object.values(TEST_ORGANISATIONS));
    pool = createPool(database.url, { max: 30 });
    registry = await startTestRegistry(database, { logger, pollEveryMs: 1_000 });
    tokens.finance = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
    tokens.finance2 = await keys.token({
      org: 'finance-ceptar',
      sector: 'finance',
      roles: ['ceptar'],
      sub: 'second-user',
    });
    tokens.water = await keys.token({ org: 'water-ceptar', sector: 'water', roles: ['ceptar'] });
    tokens.analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
  });
  afterAll(async () => {
    for (const http of apps) await http.close(1_000);
    await registry?.close();
    await pool?.end();
    await database?.drop();
    await keys?.remove();
  });

  it("answers one organisation's reads past its budget 429 with Retry-After, and still serves another's", async () => {
    // 20 units: four lists (5 each), then nothing for 5 s at one unit per second.
    const http = await gateway({
      member: { perSecond: 1, burst: 20, expensiveInFlight: 2 },
      analyst: { perSecond: 1, burst: 60, expensiveInFlight: 4 },
    });
    for (let i = 0; i < 4; i++) expect((await get(http, tokens.finance, '/v1/alerts')).statusCode).toBe(200);

    const refused = await get(http, tokens.finance, '/v1/alerts');
    expect(refused.statusCode).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(4);
    expect(retryAfter).toBeLessThanOrEqual(5);
    expect(refused.json()).toEqual({
      code: 'RENKEI_RATE_LIMITED',
      message: expect.stringMatching(/read units per second/) as string,
    });
    // The budget is the organisation's: another token of it is refused too, for a single item as well.
    expect((await get(http, tokens.finance2, '/v1/alerts')).statusCode).toBe(429);
    expect(
      (await get(http, tokens.finance2, '/v1/alerts/00000000-0000-4000-8000-000000000001')).statusCode,
    ).toBe(429);

    // Another organisation reads on.
    expect((await get(http, tokens.water, '/v1/alerts')).statusCode).toBe(200);
    expect((await get(http, tokens.water, '/v1/warnings')).statusCode).toBe(200);
    // Health is never budgeted.
    expect((await http.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // Writes are not reads: the write limit is another matter.
    const write = await http.app.inject({
      method: 'POST',
      url: '/v1/warnings',
      headers: { authorization: `Bearer ${tokens.finance}`, 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(write.statusCode).not.toBe(429);
  });

  it('gives analysts a larger budget, and still a bounded one', async () => {
    const http = await gateway({
      member: { perSecond: 1, burst: 20, expensiveInFlight: 2 },
      analyst: { perSecond: 1, burst: 60, expensiveInFlight: 4 },
    });
    const answered = async (token: string) => {
      let served = 0;
      for (let i = 0; i < 20; i++) {
        const response = await get(http, token, '/v1/alerts');
        if (response.statusCode !== 200) {
          expect(response.statusCode).toBe(429);
          break;
        }
        served += 1;
      }
      return served;
    };
    expect(await answered(tokens.finance)).toBe(4);
    expect(await answered(tokens.analyst)).toBe(12);
  });

  it('lets an organisation have at most its cap of exports and TAXII pages in flight', async () => {
    const http = await gateway({
      member: { perSecond: 1_000, burst: 10_000, expensiveInFlight: 2 },
      analyst: { perSecond: 1_000, burst: 10_000, expensiveInFlight: 3 },
    });
    const objects = `${TAXII_API_ROOT}collections/${collectionId({ kind: 'community' })}/objects/`;
    const databaseName = new URL(database.url).pathname.slice(1);
    const blocked = async () => {
      const { rows } = await database.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
        [databaseName],
      );
      return rows[0]!.n;
    };
    // Exports read `reports`: while it is locked, every export that got in waits, holding its slot.
    const locker = await database.pool.connect();
    const inFlight: Promise<{ statusCode: number }>[] = [];
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE reports IN ACCESS EXCLUSIVE MODE');
      inFlight.push(get(http, tokens.finance, '/v1/stix/bundle'));
      inFlight.push(get(http, tokens.finance2, objects, TAXII_ACCEPT));
      await eventually(async () => expect(await blocked()).toBe(2), { timeoutMs: 10_000, intervalMs: 50 });

      const third = await get(http, tokens.finance, '/v1/stix/bundle');
      expect(third.statusCode).toBe(429);
      expect(third.headers['retry-after']).toBe('1');
      expect(third.json()).toMatchObject({
        code: 'RENKEI_RATE_LIMITED',
        message: expect.stringMatching(/at most 2 exports, TAXII pages or lookups in flight/) as string,
      });
      expect((await get(http, tokens.finance, objects, TAXII_ACCEPT)).statusCode).toBe(429);
      // Cheap reads of the same organisation are not held up by the cap.
      expect((await get(http, tokens.finance, '/v1/alerts')).statusCode).toBe(200);

      // Another organisation's export gets in; analysts may have three at once. Exports
      // queue for the export worker's two connections, so these wait in the gateway, not
      // in PostgreSQL: each has its slot once it has passed authentication, a few turns
      // of the event loop after it was sent.
      inFlight.push(get(http, tokens.water, '/v1/stix/bundle'));
      for (let i = 0; i < 3; i++) inFlight.push(get(http, tokens.analyst, '/v1/stix/bundle'));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await blocked()).toBe(2);
      expect((await get(http, tokens.analyst, '/v1/stix/bundle')).statusCode).toBe(429);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    expect((await Promise.all(inFlight)).map((response) => response.statusCode)).toEqual(
      inFlight.map(() => 200),
    );
    // The slots are free again once the answers went out.
    const again = await Promise.all([
      get(http, tokens.finance, '/v1/stix/bundle'),
      get(http, tokens.finance2, '/v1/stix/bundle'),
    ]);
    expect(again.map((response) => response.statusCode)).toEqual([200, 200]);
  });

  it('holds the slot of an export whose client went away until its work is over, then frees it', async () => {
    const http = await gateway({
      member: { perSecond: 1_000, burst: 10_000, expensiveInFlight: 1 },
      analyst: { perSecond: 1_000, burst: 10_000, expensiveInFlight: 1 },
    });
    const base = await http.listen({ host: '127.0.0.1', port: 0, onFailure: () => undefined });
    const exportOf = (token: string, signal?: AbortSignal) =>
      fetch(`${base}/v1/stix/bundle`, {
        headers: { authorization: `Bearer ${token}` },
        ...(signal ? { signal } : {}),
      });
    const databaseName = new URL(database.url).pathname.slice(1);
    const blocked = async () => {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
        [databaseName],
      );
      return rows[0]!.n;
    };
    const locker = await pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE reports IN ACCESS EXCLUSIVE MODE');
      const abort = new AbortController();
      const abandoned = exportOf(tokens.finance, abort.signal).catch((error: unknown) => error);
      await eventually(async () => expect(await blocked()).toBe(1), { timeoutMs: 10_000, intervalMs: 50 });
      abort.abort();
      await abandoned;
      // Its work still waits on the database: the slot is still taken.
      expect((await exportOf(tokens.finance)).status).toBe(429);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    await eventually(async () => expect((await exportOf(tokens.finance)).status).toBe(200), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
  });

  it('charges a later TAXII page (next) as a list, the first as an export', async () => {
    const http = await gateway({
      member: { perSecond: 0.1, burst: 60, expensiveInFlight: 2 },
      analyst: { perSecond: 0.1, burst: 60, expensiveInFlight: 2 },
    });
    const objects = `${TAXII_API_ROOT}collections/${collectionId({ kind: 'community' })}/objects/`;
    expect((await get(http, tokens.water, `${objects}?limit=2`, TAXII_ACCEPT)).statusCode).toBe(200);
    // 10 units left: two later pages fit (a next this server never gave is a 400, past the budget).
    expect((await get(http, tokens.water, `${objects}?limit=2&next=bm9wZQ`, TAXII_ACCEPT)).statusCode).toBe(
      400,
    );
    expect((await get(http, tokens.water, `${objects}?limit=2&next=bm9wZQ`, TAXII_ACCEPT)).statusCode).toBe(
      400,
    );
    expect((await get(http, tokens.water, `${objects}?limit=2&next=bm9wZQ`, TAXII_ACCEPT)).statusCode).toBe(
      429,
    );
    expect((await get(http, tokens.water, `${objects}?limit=2`, TAXII_ACCEPT)).statusCode).toBe(429);
  });

  it('counts anonymous TAXII readers by address, on the member budget', async () => {
    const http = await gateway(
      {
        member: { perSecond: 0.1, burst: 3, expensiveInFlight: 1 },
        analyst: { perSecond: 0.1, burst: 3, expensiveInFlight: 1 },
      },
      { publicTaxii: true },
    );
    const anonymous = (remoteAddress: string) =>
      http.app.inject({ method: 'GET', url: '/taxii2/', remoteAddress, headers: { accept: TAXII_ACCEPT } });
    for (let i = 0; i < 3; i++) expect((await anonymous('192.0.2.1')).statusCode).toBe(200);
    const refused = await anonymous('192.0.2.1');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('10');
    expect((await anonymous('192.0.2.2')).statusCode).toBe(200);
    expect((await get(http, tokens.water, '/taxii2/', TAXII_ACCEPT)).statusCode).toBe(200);
  });

  it('prices routes the gateway declares, and documents the refusal', async () => {
    const http = apps[0] ?? (await gateway(DEFAULT_ACCESS_SETTINGS.readLimits!));
    for (const route of Object.keys(GATEWAY_READ_COSTS)) expect(http.routes).toContain(route);
    // And the reference says that a read may be refused.
    const document = http.app.swagger() as { paths: Record<string, { get?: { responses?: object } }> };
    expect(document.paths['/v1/stix/bundle']?.get?.responses).toHaveProperty('429');
    expect(document.paths['/v1/alerts']?.get?.responses).toHaveProperty('429');
  });
});
