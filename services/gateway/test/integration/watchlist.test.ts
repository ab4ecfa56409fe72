import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpApp } from '@renkei/http';
import { createLogger } from '@renkei/runtime';
import { exclusionSchema, watchlistEntrySchema } from '@renkei/schema';
import { TEST_ORGANISATIONS, type TestDatabase, type TestKeys } from '@renkei/testing';
import { startInProcessGateway, type InProcessGateway } from '../support/in-process.js';

/** The watchlist and exclusion routes in this process, on a real database. */
describe('watchlist and exclusions', () => {
  const logger = createLogger('gateway-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let http: HttpApp;
  let analyst: string;
  let reporter: string;
  let gateway: InProcessGateway;

  beforeAll(async () => {
    gateway = await startInProcessGateway({
      organisations: [
        TEST_ORGANISATIONS.gsoc,
        { id: 'a-csirt', sector: 'central-government', kind: 'agency' },
      ],
      logger,
      registryPollMs: 1_000,
    });
    ({ database, keys, http } = gateway);
    analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'], sub: 'ana' });
    reporter = await keys.token({
      org: 'a-csirt',
      sector: 'central-government',
      roles: ['reporter', 'ceptar'],
    });
  });
  afterAll(async () => {
    await gateway?.close();
  });

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, body?: unknown) =>
    http.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    });

  const audit = async (object: string) =>
    (
      await database.pool.query<{ kind: string; actor: string; outcome: string }>(
        'SELECT kind, actor, outcome FROM audit_events WHERE object = $1 ORDER BY id',
        [object],
      )
    ).rows;

  it('adds, lists and removes watchlist entries, each change audited with the analyst', async () => {
    const added = await call('POST', '/v1/watchlist', analyst, {
      type: 'url',
      value: 'hxxps://Watched[.]Example/x',
      note: 'phishing kit',
      expiresAt: '2027-01-01T09:00:00+09:00',
    });
    expect(added.statusCode).toBe(201);
    const entry = watchlistEntrySchema.parse(added.json());
    expect(entry).toMatchObject({
      type: 'url',
      value: 'hxxps://Watched[.]Example/x',
      canonical: { type: 'url', value: 'https://watched.example/x' },
      expiresAt: '2027-01-01T00:00:00.000Z',
    });
    const listed = await call('GET', '/v1/watchlist', analyst);
    expect(listed.json().items.map((item: { id: string }) => item.id)).toEqual([entry.id]);

    expect((await call('DELETE', `/v1/watchlist/${entry.id}`, analyst)).statusCode).toBe(204);
    expect((await call('DELETE', `/v1/watchlist/${entry.id}`, analyst)).statusCode).toBe(404);
    expect((await call('GET', '/v1/watchlist', analyst)).json().items).toEqual([]);
    expect(await audit(entry.id)).toEqual([
      { kind: 'watchlist.added', actor: 'ana', outcome: 'success' },
      { kind: 'watchlist.removed', actor: 'ana', outcome: 'success' },
    ]);
  });

  it('refuses a value that is not an indicator of its type, naming the field', async () => {
    const response = await call('POST', '/v1/watchlist', analyst, {
      type: 'ipv4',
      value: '010.1.1.1',
      note: 'x',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().fields).toEqual([{ field: 'value', message: expect.stringContaining('octal') }]);
  });

  it('is for analysts only', async () => {
    expect((await call('GET', '/v1/watchlist', reporter)).statusCode).toBe(403);
    expect(
      (await call('POST', '/v1/watchlist', reporter, { type: 'domain', value: 'a.example', note: 'x' }))
        .statusCode,
    ).toBe(403);
    expect((await call('GET', '/v1/exclusions', reporter)).statusCode).toBe(403);
    expect(
      (await call('POST', '/v1/exclusions', reporter, { type: 'domain', value: 'a.example', note: 'x' }))
        .statusCode,
    ).toBe(403);
  });

  it('adds exclusions of a canonical value or a network, and removes them', async () => {
    const byValue = await call('POST', '/v1/exclusions', analyst, {
      type: 'domain',
      value: 'Intranet[.]Example',
      note: 'ours',
    });
    expect(byValue.statusCode).toBe(201);
    expect(exclusionSchema.parse(byValue.json())).toMatchObject({
      type: 'domain',
      value: 'intranet.example',
      cidr: null,
    });
    const byNetwork = await call('POST', '/v1/exclusions', analyst, {
      type: 'ipv6',
      cidr: '2001:DB8:0::/48',
      note: 'lab',
    });
    expect(byNetwork.statusCode).toBe(201);
    expect(byNetwork.json()).toMatchObject({ value: null, cidr: '2001:db8::/48' });
    const listed = (await call('GET', '/v1/exclusions', analyst)).json().items;
    expect(listed).toHaveLength(2);
    const id = byValue.json().id as string;
    expect((await call('DELETE', `/v1/exclusions/${id}`, analyst)).statusCode).toBe(204);
    expect((await audit(id)).map((row) => row.kind)).toEqual(['exclusion.added', 'exclusion.removed']);
  });

  it.each([
    [{ type: 'ipv4', cidr: '203.0.113.5/24', note: 'x' }, 'cidr', 'host bits'],
    [{ type: 'domain', cidr: '203.0.113.0/24', note: 'x' }, 'cidr', 'only for ipv4'],
    [{ type: 'ipv4', value: '203.0.113.5', cidr: '203.0.113.0/24', note: 'x' }, 'value', 'not both'],
    [{ type: 'md5', value: 'abc', note: 'x' }, 'value', 'md5'],
  ])('refuses exclusion %j naming %s', async (body, field, message) => {
    const response = await call('POST', '/v1/exclusions', analyst, body);
    expect(response.statusCode).toBe(400);
    expect(response.json().fields).toEqual([{ field, message: expect.stringContaining(message) }]);
  });
});
