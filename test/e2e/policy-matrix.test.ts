import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubCursorSealers, type CursorSealers } from '@renkei/gateway';
import { viewAlert, viewedVersion, viewFeedEvent, type Viewer } from '@renkei/policy';
import {
  FEED_EVENT_SCHEMA,
  TLP_LEVELS,
  alertPageSchema,
  type AlertFrame,
  type AlertPage,
  type AlertRecord,
  type Role,
  type Tlp,
} from '@renkei/schema';
import {
  createTestDatabase,
  createTestKeys,
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
  type TestKeys,
  type TestOrganisation,
} from '@renkei/testing';

/**
 * The policy's matrix on the real stack, over REST and the stream: for every
 * TLP, a report of an agency joins an alert two sector bodies raised with
 * GREEN reports. Viewers: the agency itself (own organisation), a sector body
 * that reported the indicator and one that did not (same sector, other
 * organisation), a body of another sector, an administrator and an analyst.
 */
describe('the TLP policy end to end, over REST and the stream', () => {
  let database: TestDatabase;
  let keys: TestKeys;
  let prefix: string;
  const services: ServiceProcess[] = [];
  let ingestUrl: string;
  let gatewayUrl: string;
  const { gsoc, mlitCsirt, financeCeptar, acmeBank, waterCeptar } = TEST_ORGANISATIONS;
  const names = new Map<string, string>();

  const VIEWERS = {
    analyst: { organisation: gsoc, roles: ['analyst'] },
    admin: { organisation: gsoc, roles: ['admin'] },
    agency: { organisation: mlitCsirt, roles: ['reporter'] },
    financeCeptar: { organisation: financeCeptar, roles: ['ceptar'] },
    bank: { organisation: acmeBank, roles: ['reporter'] },
    water: { organisation: waterCeptar, roles: ['ceptar'] },
  } satisfies Record<string, { organisation: TestOrganisation; roles: Role[] }>;
  type ViewerName = keyof typeof VIEWERS;
  const viewerNames = Object.keys(VIEWERS) as ViewerName[];
  const tokens = {} as Record<ViewerName, string>;
  const streams = {} as Record<ViewerName, StreamClient>;
  const principal = (name: ViewerName): Viewer => ({
    subject: `${name}-user`,
    organisationId: VIEWERS[name].organisation.id,
    sector: VIEWERS[name].organisation.sector,
    roles: VIEWERS[name].roles,
  });

  const run = randomBytes(3).toString('hex');
  const indicatorFor = (tlp: Tlp) => `${tlp.toLowerCase().replace('+', '-')}-${run}.policy.example`;
  const reportIds = new Map<Tlp, string>();
  let cursors: CursorSealers['feed'];

  beforeAll(async () => {
    [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
    const organisations = [gsoc, mlitCsirt, financeCeptar, acmeBank, waterCeptar];
    await registerOrganisations(database, organisations);
    for (const organisation of organisations) names.set(organisation.id, `${organisation.id} (test)`);
    prefix = randomTopicPrefix();
    const env = {
      DATABASE_URL: database.url,
      KAFKA_TOPIC_PREFIX: prefix,
      AUTH_JWKS_FILE: keys.jwksFile,
      // Read by the test too: the cursors it expects are the positions sealed as the gateway seals them.
      HUB_SECRET_FILE: path.join(path.dirname(keys.jwksFile), 'hub-secret'),
    };
    cursors = (await hubCursorSealers(env.HUB_SECRET_FILE)).feed;
    const started = await spawnServices([
      { name: 'correlator', env },
      { name: 'ingest', env },
      { name: 'gateway', env },
    ]);
    services.push(...started);
    ingestUrl = started[1]!.url!;
    gatewayUrl = started[2]!.url!;
    await Promise.all([waitUntilReady(ingestUrl), waitUntilReady(gatewayUrl)]);
    for (const name of viewerNames) {
      const { organisation, roles } = VIEWERS[name];
      tokens[name] = await keys.token({
        org: organisation.id,
        sector: organisation.sector,
        roles,
        sub: `${name}-user`,
      });
      streams[name] = await openStream(gatewayUrl, tokens[name]);
      await streams[name].next((frame) => frame.type === 'welcome');
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(streams).map((stream) => stream.close()));
    const codes = await Promise.all(services.map((service) => service.stop()));
    expect(codes).toEqual(services.map(() => 0));
    await database?.drop();
    await keys?.remove();
    await deleteTopicsWithPrefix(prefix);
  });

  // Reports two hours apart: within the correlation window, but never five
  // from one sector within the hour, which would add sector-surge alerts.
  let submitted = 0;
  const submit = async (name: ViewerName, tlp: Tlp, domain: string, severity = 'low') => {
    const detectedAt = new Date(Date.UTC(2026, 10, 28) + 2 * 3_600_000 * submitted++).toISOString();
    const response = await fetch(`${ingestUrl}/v1/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[name]}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: `${name} saw ${domain}`,
        category: 'targeted-attack',
        severity,
        tlp,
        detectedAt,
        indicators: [{ type: 'domain', value: domain }],
      }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  };

  const list = async (name: ViewerName): Promise<AlertPage> => {
    const response = await fetch(`${gatewayUrl}/v1/alerts?limit=200`, {
      headers: { authorization: `Bearer ${tokens[name]}` },
    });
    expect(response.status).toBe(200);
    return alertPageSchema.parse(await response.json());
  };

  const analystAlertsAt = (version: number) =>
    eventually(async () => {
      const frames = streams.analyst.frames.filter(
        (frame): frame is AlertFrame => frame.type === 'alert' && frame.alert.version === version,
      );
      for (const tlp of TLP_LEVELS) {
        expect(frames.some((frame) => frame.alert.indicators[0]?.value === indicatorFor(tlp))).toBe(true);
      }
    });

  const alertFrames = (name: ViewerName) =>
    streams[name].frames.filter((frame): frame is AlertFrame => frame.type === 'alert');

  let before: Record<ViewerName, AlertPage>;

  it('raises an alert per TLP from two GREEN reports of two sector bodies', async () => {
    for (const tlp of TLP_LEVELS) {
      await submit('financeCeptar', 'GREEN', indicatorFor(tlp));
      await submit('water', 'GREEN', indicatorFor(tlp));
    }
    await analystAlertsAt(1);
    // Every member sees these: two GREEN reports of two organisations.
    await eventually(async () => {
      for (const name of viewerNames) expect((await list(name)).items).toHaveLength(TLP_LEVELS.length);
    });
    before = Object.fromEntries(
      await Promise.all(viewerNames.map(async (name) => [name, await list(name)])),
    ) as Record<ViewerName, AlertPage>;
  });

  it('adds the agency’s report of each TLP, and each viewer receives exactly what TLP 2.0 allows', async () => {
    for (const tlp of TLP_LEVELS)
      reportIds.set(tlp, await submit('agency', tlp, indicatorFor(tlp), 'critical'));
    await analystAlertsAt(2);
    await sleep(2_000);

    const byIndicator = (frames: AlertFrame[], tlp: Tlp) =>
      frames.filter((frame) => frame.alert.indicators.some((i) => i.value === indicatorFor(tlp)));
    for (const tlp of TLP_LEVELS) {
      const shared = tlp === 'CLEAR' || tlp === 'GREEN';
      // The analyst and the agency itself see both versions, the agency's report named as its own.
      expect(byIndicator(alertFrames('analyst'), tlp).map((f) => f.alert.version)).toEqual([1, 2]);
      const own = byIndicator(alertFrames('agency'), tlp);
      expect(own.map((f) => f.alert.version)).toEqual([1, 2]);
      expect(own[1]!.alert).toMatchObject({
        organisationCount: 3,
        reportIds: [reportIds.get(tlp)],
        sectors: ['central-government', 'finance', 'water'],
        severity: 'critical',
        tlp: tlp === 'CLEAR' ? 'GREEN' : tlp,
      });
      // Sector bodies that reported the indicator: shared reports are read, an AMBER one counts.
      for (const name of ['financeCeptar', 'water'] as const) {
        const frames = byIndicator(alertFrames(name), tlp);
        if (shared) {
          expect(frames.map((f) => f.alert.version)).toEqual([1, 2]);
          expect(frames[1]!.alert).toMatchObject({
            organisationCount: 3,
            sectors: ['central-government', 'finance', 'water'],
            severity: 'critical',
          });
        } else if (tlp === 'AMBER') {
          expect(frames.map((f) => f.alert.version)).toEqual([1, 2]);
          expect(frames[1]!.alert).toMatchObject({
            organisationCount: 3,
            sectors: ['finance', 'water'],
            severity: 'low',
            tlp: 'AMBER',
          });
        } else {
          expect(frames.map((f) => f.alert.version)).toEqual([1]);
        }
        expect(frames.flatMap((f) => f.alert.reportIds)).not.toContain(reportIds.get(tlp));
      }
      // Members that did not report it (same sector or none): only shared reports change anything.
      for (const name of ['bank', 'admin'] as const) {
        const frames = byIndicator(alertFrames(name), tlp);
        expect(frames.map((f) => f.alert.version)).toEqual(shared ? [1, 2] : [1]);
        expect(frames.every((f) => f.alert.reportIds.length === 0)).toBe(true);
      }
    }
  });

  it('never changes what another organisation receives for an AMBER+STRICT or RED report, over REST either', async () => {
    const after = Object.fromEntries(
      await Promise.all(viewerNames.map(async (name) => [name, await list(name)])),
    ) as Record<ViewerName, AlertPage>;
    for (const tlp of ['AMBER+STRICT', 'RED'] as const) {
      const pick = (page: AlertPage) =>
        page.items.find((item) => item.indicators.some((i) => i.value === indicatorFor(tlp)));
      for (const name of ['financeCeptar', 'water', 'bank', 'admin'] as const) {
        // The same view, at the same cursor: neither its content nor its place in the list moved.
        expect(pick(after[name]), `${name}, ${tlp}`).toEqual(pick(before[name]));
      }
      expect(pick(after.analyst)!.version).toBe(2);
      expect(pick(after.agency)!.version).toBe(2);
    }
  });

  it('serves every viewer exactly the policy’s views of the stored records, on the stream and in the list', async () => {
    const { rows } = await database.pool.query<{ position: string; version: number; record: AlertRecord }>(
      `SELECT v.position::text AS position, v.version, v.record FROM alert_versions v ORDER BY v.position`,
    );
    const latest = new Map<string, AlertRecord>();
    for (const row of rows) latest.set(row.record.id, row.record);
    const positionOf = new Map(rows.map((row) => [`${row.record.id}:${row.version}`, row.position]));

    for (const name of viewerNames) {
      const viewer = principal(name);
      const expectedFrames = rows.flatMap((row) => {
        const frame = viewFeedEvent(
          viewer,
          {
            schema: FEED_EVENT_SCHEMA,
            position: row.position,
            sequencedAt: row.record.updatedAt,
            kind: 'alert',
            payload: row.record,
          },
          cursors.seal(BigInt(row.position)),
        );
        return frame ? [frame] : [];
      });
      expect(alertFrames(name), `${name}: stream`).toEqual(expectedFrames);

      const expectedItems = [...latest.values()]
        .flatMap((record) => {
          const view = viewAlert(viewer, record);
          const version = viewedVersion(viewer, record);
          // Nobody triages here: every listed alert is still `new`.
          return view && version
            ? [{ view, position: BigInt(positionOf.get(`${record.id}:${version}`)!) }]
            : [];
        })
        .sort((a, b) => (a.position === b.position ? 0 : a.position > b.position ? -1 : 1))
        .map(({ view, position }) => ({
          ...view,
          cursor: cursors.seal(position),
          triageStatus: 'new' as const,
        }));
      expect((await list(name)).items, `${name}: list`).toEqual(expectedItems);
    }
  });

  it('names no organisation in anything a non-analyst receives', async () => {
    const forbidden = [...names.keys(), ...names.values()];
    for (const name of viewerNames.filter((n) => n !== 'analyst')) {
      const payloads = JSON.stringify([alertFrames(name), await list(name)]);
      for (const word of forbidden) expect(payloads, `${name} must not see ${word}`).not.toContain(word);
    }
    const analystPayload = JSON.stringify(alertFrames('analyst'));
    expect(analystPayload).toContain('mlit-csirt');
    expect(analystPayload).toContain('water-ceptar');
  });

  it('answers 404, never 403, for a report the caller may not read', async () => {
    const id = reportIds.get('RED')!;
    const read = (name: ViewerName) =>
      fetch(`${ingestUrl}/v1/reports/${id}`, { headers: { authorization: `Bearer ${tokens[name]}` } });
    expect((await read('agency')).status).toBe(200);
    expect((await read('analyst')).status).toBe(200);
    for (const name of ['financeCeptar', 'bank', 'water', 'admin'] as const)
      expect((await read(name)).status).toBe(404);
  });
});
