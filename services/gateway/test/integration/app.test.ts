import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenVerifier } from '@renkei/auth';
import type { HttpApp } from '@renkei/http';
import { startRegistryCache, type OrganisationRegistry } from '@renkei/registry';
import { createLogger } from '@renkei/runtime';
import { alertPageSchema, type AlertRecord, type Tlp } from '@renkei/schema';
import {
  alertRecordFixture,
  contributionFixture,
  createMigratedTestDatabase,
  createTestKeys,
  documentedRoutes,
  registerOrganisations,
  TEST_ORGANISATIONS,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';
import { buildGatewayApp } from '../../src/app.js';
import { StreamHub } from '../../src/stream-hub.js';

/** The gateway's HTTP side in this process, through its builder, on a real database. */
describe('gateway, built in-process', () => {
  const logger = createLogger('gateway-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let http: HttpApp;
  let analyst: string;
  let ceptar: string;
  let registry: OrganisationRegistry;

  beforeAll(async () => {
    [database, keys] = await Promise.all([createMigratedTestDatabase(), createTestKeys()]);
    const { gsoc, financeCeptar } = TEST_ORGANISATIONS;
    await registerOrganisations(database, [gsoc, financeCeptar]);
    registry = await startRegistryCache({
      pool: database.pool,
      databaseUrl: database.url,
      logger,
      pollEveryMs: 1_000,
    });
    http = await buildGatewayApp({
      logger,
      pool: database.pool,
      hub: new StreamHub({ maxBufferedBytes: 1024 * 1024, logger }),
      verifyToken: await loadTokenVerifier({
        AUTH_JWKS_FILE: keys.jwksFile,
        AUTH_ISSUER: 'renkei',
        AUTH_AUDIENCE: 'renkei-api',
      }),
      registry,
      checkReadiness: async () => true,
    });
    analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
    ceptar = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
  });
  afterAll(async () => {
    await http?.close(1_000);
    await registry?.close();
    await database?.drop();
    await keys?.remove();
  });

  /** Writes an alert as the correlator and the feed sequencer would leave it. */
  async function storeAlert(tlp: Tlp, position: number): Promise<AlertRecord> {
    const id = randomUUID();
    const record = alertRecordFixture({
      id,
      tlp,
      title: `domain ${id}.example reported by 2 organisations in 1 sector`,
      indicators: [{ type: 'domain', value: `${id}.example` }],
      contributions: ['a-csirt', 'b-csirt'].map((organisationId) =>
        contributionFixture({ organisationId, tlp }),
      ),
    });
    await database.pool.query(
      `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, position, record, created_at, updated_at)
       VALUES ($1, $2, 'shared-indicator', 1, false, $3, 'high', $4, $5, now(), now())`,
      [id, `test:${id}`, tlp, position, record],
    );
    const cause = record.contributions[0]!;
    await database.pool.query(
      `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp, detected_at,
                            received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset)
       VALUES ($1, $2, $3, 'tester', 'report', 'malware', 'high', $4, now(), now(), false, $5, 'test', 0, $6)`,
      [cause.reportId, cause.organisationId, cause.sector, tlp, '0'.repeat(64), position],
    );
    await database.pool.query(
      `INSERT INTO alert_versions (alert_id, version, record, caused_by_report_id, position) VALUES ($1, 1, $2, $3, $4)`,
      [id, record, cause.reportId, position],
    );
    return record;
  }

  const list = (token: string, query = '') =>
    http.app.inject({
      method: 'GET',
      url: `/v1/alerts${query}`,
      headers: { authorization: `Bearer ${token}` },
    });

  it('pages alerts newest first by cursor, shaped for each viewer', async () => {
    const green = await storeAlert('GREEN', 10);
    const amber = await storeAlert('AMBER', 11);
    const clear = await storeAlert('CLEAR', 12);

    const first = alertPageSchema.parse((await list(analyst, '?limit=2')).json());
    expect(first.items.map((item) => [item.id, item.cursor])).toEqual([
      [clear.id, '12'],
      [amber.id, '11'],
    ]);
    expect(first.nextBefore).toBe('11');
    const second = alertPageSchema.parse((await list(analyst, `?limit=2&before=${first.nextBefore}`)).json());
    expect(second.items.map((item) => item.id)).toEqual([green.id]);
    expect(second.nextBefore).toBeNull();

    const forCeptar = alertPageSchema.parse((await list(ceptar)).json());
    expect(forCeptar.items.map((item) => item.id)).toEqual([clear.id, green.id]);
    expect(JSON.stringify(forCeptar)).not.toContain('a-csirt');
  });

  it('answers a bad query with 400 naming the parameter', async () => {
    const response = await list(analyst, '?limit=0&before=abc');
    expect(response.statusCode).toBe(400);
    expect(
      response
        .json()
        .fields.map((field: { field: string }) => field.field)
        .sort(),
    ).toEqual(['before', 'limit']);
  });

  it('needs a token for the alerts, not for health or the documentation', async () => {
    expect((await http.app.inject({ method: 'GET', url: '/v1/alerts' })).statusCode).toBe(401);
    expect((await http.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    expect((await http.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
  });

  it('describes every route it registered in its OpenAPI document', async () => {
    expect(http.routes).toEqual(expect.arrayContaining(['GET /v1/alerts', 'GET /v1/stream']));
    expect((await documentedRoutes(http.app)).sort()).toEqual([...http.routes].sort());
  });

  it('answers a method the path does not have with 405', async () => {
    const response = await http.app.inject({ method: 'DELETE', url: '/v1/alerts' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
  });
});
