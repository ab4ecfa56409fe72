import { createHmac, createPrivateKey, sign, type JsonWebKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFilesIn, mintToken } from '@renkei/auth';
import { runCommand } from '@renkei/cli';
import type { AlertPage, Role, WarningAckFrame, WarningFrame } from '@renkei/schema';
import {
  createTestDatabase,
  deleteTopicsWithPrefix,
  eventually,
  openStream,
  randomTopicPrefix,
  registerOrganisations,
  sleep,
  spawnServices,
  TEST_ORGANISATIONS,
  waitUntilReady,
  type ServiceProcess,
  type StreamClient,
  type TestDatabase,
  type TestOrganisation,
} from '@renkei/testing';

/**
 * Who may use the hub, on real processes: ingest and gateway (which also
 * relays the feed) with a key set in a state directory of the test's own, so
 * `renkei keys rotate|retire` runs against running services.
 */
describe('access: tokens, key rotation, revoked streams and shared warnings on running services', () => {
  let database: TestDatabase;
  let stateDir: string;
  let prefix: string;
  let cliEnv: Record<string, string>;
  const services: ServiceProcess[] = [];
  let ingestUrl: string;
  let gatewayUrl: string;
  const streams: StreamClient[] = [];
  const { gsoc, mlitCsirt, financeCeptar, waterCeptar, railCeptar, acmeBank } = TEST_ORGANISATIONS;
  const outsider: TestOrganisation = { id: 'gas-ceptar', sector: 'gas', kind: 'ceptar' };

  beforeAll(async () => {
    database = await createTestDatabase();
    stateDir = await mkdtemp(path.join(tmpdir(), 'renkei-access-'));
    prefix = randomTopicPrefix();
    cliEnv = { RENKEI_STATE_DIR: stateDir, DATABASE_URL: database.url };
    await runCommand(['keys'], cliEnv);
    await registerOrganisations(database, [
      gsoc,
      mlitCsirt,
      financeCeptar,
      waterCeptar,
      railCeptar,
      acmeBank,
      outsider,
    ]);
    const env = {
      DATABASE_URL: database.url,
      KAFKA_TOPIC_PREFIX: prefix,
      AUTH_JWKS_FILE: keyFilesIn(stateDir).publicKeySet,
      AUTH_JWKS_POLL_MS: '200',
    };
    const [ingest, gateway] = await spawnServices([
      { name: 'ingest', env },
      { name: 'gateway', env },
    ]);
    services.push(ingest!, gateway!);
    ingestUrl = ingest!.url!;
    gatewayUrl = gateway!.url!;
    await Promise.all([waitUntilReady(ingestUrl), waitUntilReady(gatewayUrl)]);
  });

  afterAll(async () => {
    await Promise.all(streams.map((stream) => stream.close()));
    const codes = await Promise.all(services.map((service) => service.stop()));
    expect(codes, 'every service drains and exits 0 on SIGTERM').toEqual(services.map(() => 0));
    await database?.drop();
    await rm(stateDir, { recursive: true, force: true });
    await deleteTopicsWithPrefix(prefix);
  });

  const signingKey = async () => JSON.parse(await readFile(keyFilesIn(stateDir).signingKey, 'utf8')) as JWK;
  const token = async (organisation: TestOrganisation, roles: Role[], ttl = '1h') =>
    mintToken(
      await signingKey(),
      { sub: `${organisation.id}-user`, org: organisation.id, sector: organisation.sector, roles },
      { issuer: 'renkei', audience: 'renkei-api', ttl },
    );
  const report = () => ({
    title: 'Access test',
    category: 'phishing',
    severity: 'low',
    tlp: 'GREEN',
    detectedAt: '2026-11-28T09:00:00Z',
    indicators: [],
  });
  const submit = (bearer: string) =>
    fetch(`${ingestUrl}/v1/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(report()),
    });
  const gatewayGet = (bearer: string, route = '/v1/alerts') =>
    fetch(`${gatewayUrl}${route}`, { headers: { authorization: `Bearer ${bearer}` } });
  const gatewayPost = (bearer: string, route: string, body?: unknown) =>
    fetch(`${gatewayUrl}${route}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const refusedReasons = async () =>
    (
      await database.pool.query<{ reason: string }>(
        `SELECT details->>'reason' AS reason FROM audit_events WHERE kind = 'token.refused'`,
      )
    ).rows.map((row) => row.reason);

  describe('token attacks', () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = () => Math.floor(Date.now() / 1000);
    const claims = (overrides: Record<string, unknown> = {}) => ({
      sub: 'mallory',
      org: 'mlit-csirt',
      sector: 'central-government',
      roles: ['reporter'],
      iss: 'renkei',
      aud: 'renkei-api',
      iat: now(),
      exp: now() + 3600,
      ...overrides,
    });
    /** Signs any header and payload with the hub's key, bypassing every check a library would make. */
    const signRaw = async (header: object, payload: object) => {
      const key = createPrivateKey({ key: (await signingKey()) as JsonWebKey, format: 'jwk' });
      const input = `${encode(header)}.${encode(payload)}`;
      return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
    };
    const withoutClaim = (name: string) =>
      Object.fromEntries(Object.entries(claims()).filter(([claim]) => claim !== name));

    it('refuses each one with the generic 401 on ingest and the gateway, and audits its reason', async () => {
      const hub = await signingKey();
      const header = { alg: 'EdDSA', typ: 'JWT', kid: hub.kid };
      const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const attackerJwk = { ...(await exportJWK(attacker.privateKey)), kid: 'attacker-key', alg: 'EdDSA' };
      const valid = await token(mlitCsirt, ['reporter']);
      const [validHeader, validPayload, validSignature] = valid.split('.');
      const hsInput = `${encode({ alg: 'HS256', typ: 'JWT', kid: hub.kid })}.${encode(claims())}`;
      const publicX = (
        JSON.parse(await readFile(keyFilesIn(stateDir).publicKeySet, 'utf8')) as { keys: JWK[] }
      ).keys[0]!.x!;

      const attacks: [string, string, RegExp][] = [
        ['expired', await signRaw(header, claims({ iat: now() - 7200, exp: now() - 3600 })), /expired/],
        ['nbf in the future', await signRaw(header, claims({ nbf: now() + 3600 })), /nbf/],
        ['a wrong iss', await signRaw(header, claims({ iss: 'someone-else' })), /"iss"/],
        ['no iss', await signRaw(header, withoutClaim('iss')), /"iss"/],
        ['a wrong aud', await signRaw(header, claims({ aud: 'other-api' })), /"aud"/],
        ['no aud', await signRaw(header, withoutClaim('aud')), /"aud"/],
        ['no exp', await signRaw(header, withoutClaim('exp')), /"exp"/],
        ['alg none', `${encode({ alg: 'none', typ: 'JWT', kid: hub.kid })}.${encode(claims())}.`, /"none"/],
        [
          'HS256 signed with the public key',
          `${hsInput}.${createHmac('sha256', publicX).update(hsInput).digest('base64url')}`,
          /"HS256"/,
        ],
        [
          'an unknown kid',
          await new SignJWT(claims())
            .setProtectedHeader({ alg: 'EdDSA', kid: 'attacker-key' })
            .sign(await importJWK(attackerJwk, 'EdDSA')),
          /kid/,
        ],
        [
          'a jku header pointing elsewhere',
          await new SignJWT(claims())
            .setProtectedHeader({
              alg: 'EdDSA',
              kid: 'attacker-key',
              jku: 'https://attacker.invalid/jwks.json',
            })
            .sign(await importJWK(attackerJwk, 'EdDSA')),
          /kid/,
        ],
        [
          'a tampered payload',
          `${validHeader}.${encode({ ...JSON.parse(Buffer.from(validPayload!, 'base64url').toString()), roles: ['analyst'] })}.${validSignature}`,
          /signature/,
        ],
        [
          'an unregistered organisation',
          await signRaw(header, claims({ org: 'ghost-csirt' })),
          /not registered/,
        ],
        ['a future iat', await signRaw(header, claims({ iat: now() + 3600 })), /iat/],
        [
          'a lifetime over the maximum',
          await signRaw(header, claims({ exp: now() + 31 * 86_400 })),
          /lives longer/,
        ],
      ];
      for (const [name, attack, reason] of attacks) {
        for (const response of [await submit(attack), await gatewayGet(attack)]) {
          expect(response.status, name).toBe(401);
          expect(await response.json(), name).toEqual({
            code: 'RENKEI_UNAUTHENTICATED',
            message: 'a valid bearer token is required',
          });
          expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        }
        await expect(openStream(gatewayUrl, attack), name).rejects.toThrow('HTTP 401');
        await eventually(async () => {
          const reasons = (await refusedReasons()).filter((text) => reason.test(text));
          expect(reasons.length, name).toBeGreaterThanOrEqual(3);
        });
      }
      // The valid token itself passes everywhere: the refusals were about the attacks.
      expect((await submit(valid)).status).toBe(202);
      expect((await gatewayGet(valid)).status).toBe(200);
    });

    it('refuses a disabled organisation from the next request on, and lets it back when enabled', async () => {
      const admin = await token(gsoc, ['admin']);
      const bank = await token(acmeBank, ['reporter']);
      expect((await submit(bank)).status).toBe(202);
      expect((await gatewayPost(admin, '/v1/organisations/acme-bank/disable')).status).toBe(200);
      // Ingest learns of it through the registry's notification.
      await eventually(async () => expect((await submit(bank)).status).toBe(401));
      expect((await gatewayGet(bank)).status).toBe(401);
      await eventually(async () =>
        expect(await refusedReasons()).toContain('organisation acme-bank is disabled'),
      );
      expect((await gatewayPost(admin, '/v1/organisations/acme-bank/enable')).status).toBe(200);
      await eventually(async () => expect((await submit(bank)).status).toBe(202));
    });
  });

  it('rotates keys with the services running: old and new tokens work until the old key is retired', async () => {
    const oldKid = (await signingKey()).kid!;
    const before = await token(mlitCsirt, ['reporter']);
    const rotated = await runCommand(['keys', 'rotate'], cliEnv);
    expect(rotated).toContain(`renkei keys retire ${oldKid}`);
    const after = await token(mlitCsirt, ['reporter']);
    expect((await signingKey()).kid).not.toBe(oldKid);
    await eventually(async () => {
      expect((await submit(after)).status).toBe(202);
      expect((await gatewayGet(after)).status).toBe(200);
    });
    expect((await submit(before)).status).toBe(202);
    expect((await gatewayGet(before)).status).toBe(200);

    await runCommand(['keys', 'retire', oldKid], cliEnv);
    await eventually(async () => {
      expect((await submit(before)).status).toBe(401);
      expect((await gatewayGet(before)).status).toBe(401);
    });
    expect((await submit(after)).status).toBe(202);
    expect((await gatewayGet(after)).status).toBe(200);
    const keyEvents = await database.pool.query<{ kind: string }>(
      `SELECT kind FROM audit_events WHERE kind LIKE 'key.%' ORDER BY id`,
    );
    expect(keyEvents.rows.map((row) => row.kind)).toEqual(['key.rotated', 'key.retired']);
  });

  describe('open streams', () => {
    it('closes a stream whose token expires, within 30 s, with close code 4401', async () => {
      const shortLived = await token(financeCeptar, ['ceptar'], '3s');
      const stream = await openStream(gatewayUrl, shortLived, { via: 'query' });
      streams.push(stream);
      await stream.next((frame) => frame.type === 'welcome');
      const started = Date.now();
      const closed = await Promise.race([stream.closed, sleep(30_000).then(() => null)]);
      expect(closed).toEqual({ code: 4401, reason: expect.stringContaining('reconnect') });
      expect(Date.now() - started).toBeLessThan(30_000);
      // The token went in the query string, and still never reached a log line.
      const log = await readFile(services[1]!.logFile, 'utf8');
      expect(log).toContain('"path":"/v1/stream"');
      expect(log).not.toContain(shortLived.split('.')[2]!);
    });

    it('closes the streams of an organisation that is disabled, within 30 s, and no others', async () => {
      const admin = await token(gsoc, ['admin']);
      const water = await openStream(gatewayUrl, await token(waterCeptar, ['ceptar']));
      const rail = await openStream(gatewayUrl, await token(railCeptar, ['ceptar']));
      streams.push(water, rail);
      await Promise.all([water, rail].map((s) => s.next((frame) => frame.type === 'welcome')));
      expect((await gatewayPost(admin, '/v1/organisations/water-ceptar/disable')).status).toBe(200);
      const closed = await Promise.race([water.closed, sleep(30_000).then(() => null)]);
      expect(closed).toMatchObject({ code: 4401 });
      await sleep(500);
      expect(rail.frames.some((frame) => frame.type === 'error')).toBe(false);
      expect((await gatewayPost(admin, '/v1/organisations/water-ceptar/enable')).status).toBe(200);
      const stillOpen = await Promise.race([rail.closed.then(() => 'closed'), sleep(100).then(() => 'open')]);
      expect(stillOpen).toBe('open');
    });
  });

  describe('shared warnings', () => {
    it('reach the two targeted sectors only, live and listed; acknowledgements reach the analyst (and the organisation) live and in GET', async () => {
      const analystToken = await token(gsoc, ['analyst']);
      await eventually(async () =>
        expect((await gatewayGet(await token(waterCeptar, ['ceptar']))).status).toBe(200),
      );
      const viewers = {
        analyst: await openStream(gatewayUrl, analystToken),
        finance: await openStream(gatewayUrl, await token(financeCeptar, ['ceptar'])),
        bank: await openStream(gatewayUrl, await token(acmeBank, ['reporter'])),
        water: await openStream(gatewayUrl, await token(waterCeptar, ['ceptar'])),
        rail: await openStream(gatewayUrl, await token(railCeptar, ['ceptar'])),
        agency: await openStream(gatewayUrl, await token(mlitCsirt, ['reporter'])),
      };
      streams.push(...Object.values(viewers));
      await Promise.all(Object.values(viewers).map((s) => s.next((frame) => frame.type === 'welcome')));

      const published = await gatewayPost(analystToken, '/v1/warnings', {
        title: 'Credential phishing against utilities and banks',
        body: 'Block the domain; report any sighting.',
        severity: 'high',
        tlp: 'AMBER',
        sectors: ['finance', 'water'],
        indicators: [{ type: 'domain', value: 'Portal-Login.Example' }],
      });
      expect(published.status).toBe(201);
      const warning = (await published.json()) as { id: string };

      for (const name of ['analyst', 'finance', 'bank', 'water'] as const) {
        const frame = (await viewers[name].next((f) => f.type === 'warning')) as WarningFrame;
        expect(frame.warning).toMatchObject({
          id: warning.id,
          sectors: ['finance', 'water'],
          indicators: [{ type: 'domain', value: 'portal-login.example' }],
        });
        expect(frame.cursor).toMatch(/^[A-Za-z0-9_-]{22}$/);
      }
      await sleep(1_500);
      for (const name of ['rail', 'agency'] as const) {
        expect(viewers[name].frames.filter((f) => f.type === 'warning')).toEqual([]);
      }

      const inbox = async (bearer: string) =>
        ((await (await gatewayGet(bearer, '/v1/warnings')).json()) as AlertPage).items.map((item) => item.id);
      expect(await inbox(await token(waterCeptar, ['ceptar']))).toContain(warning.id);
      expect(await inbox(await token(railCeptar, ['ceptar']))).not.toContain(warning.id);
      expect(
        (await gatewayGet(await token(railCeptar, ['ceptar']), `/v1/warnings/${warning.id}`)).status,
      ).toBe(404);

      const financeToken = await token(financeCeptar, ['ceptar']);
      expect((await gatewayPost(financeToken, `/v1/warnings/${warning.id}/ack`)).status).toBe(200);
      expect((await gatewayPost(financeToken, `/v1/warnings/${warning.id}/ack`)).status).toBe(200);
      const ackFrame = (await viewers.analyst.next((f) => f.type === 'warning-ack')) as WarningAckFrame;
      expect(ackFrame.ack).toMatchObject({ warningId: warning.id, organisationId: 'finance-ceptar' });
      await sleep(1_000);
      expect(viewers.analyst.frames.filter((f) => f.type === 'warning-ack')).toHaveLength(1);
      // The organisation that acknowledged hears it too (its other users stop being asked); nobody else does.
      await viewers.finance.next((f) => f.type === 'warning-ack');
      expect(viewers.finance.frames.filter((f) => f.type === 'warning-ack')).toHaveLength(1);
      for (const name of ['bank', 'water'] as const)
        expect(viewers[name].frames.filter((f) => f.type === 'warning-ack')).toEqual([]);

      const detail = (await (await gatewayGet(analystToken, `/v1/warnings/${warning.id}`)).json()) as {
        acknowledgedBy: { organisationId: string; at: string }[];
        pendingOrganisations: string[];
      };
      expect(detail.acknowledgedBy).toEqual([{ organisationId: 'finance-ceptar', at: ackFrame.ack.at }]);
      expect(detail.pendingOrganisations).toEqual(['acme-bank', 'water-ceptar']);
    });
  });
});
