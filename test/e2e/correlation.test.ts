import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenVerifier } from '@renkei/auth';
import { readFeed } from '@renkei/feed';
import { buildGatewayApp, StreamHub } from '@renkei/gateway';
import { startRegistryCache, type OrganisationRegistry } from '@renkei/registry';
import { createLogger } from '@renkei/runtime';
import {
  REPORT_ENVELOPE_SCHEMA,
  reportStatusViewSchema,
  type AlertRecord,
  type IndicatorType,
  type ReportCategory,
  type ReportEnvelope,
  type ReportSubmission,
  type Sector,
} from '@renkei/schema';
import {
  registerOrganisations,
  TEST_ORGANISATIONS,
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  readWholeTopic,
  sleep,
  spawnService,
  testKafka,
  waitUntilReady,
  type ServiceProcess,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';

const BURST = 500;
// Small enough that the burst passes it for some indicators, so capped alerts are compared too.
const TOO_COMMON = '5';

/**
 * The correlation engine on real parts. Two hubs share nothing but the
 * broker: hub A runs one correlator process (with ingest, and the gateway's
 * routes in this process, for the scenarios), hub B three correlator
 * processes in one consumer group. Both receive the same burst of mixed
 * reports and must end with the same alerts.
 */
describe('the correlation engine', () => {
  let keys: TestKeys;
  const hubs: { database: TestDatabase; prefix: string }[] = [];
  let registry: OrganisationRegistry | undefined;
  const processes: ServiceProcess[] = [];
  let ingestUrl: string;
  let gateway: Awaited<ReturnType<typeof buildGatewayApp>>;
  const tokens = new Map<string, string>();
  let analyst: string;

  beforeAll(async () => {
    keys = await createTestKeys();
    for (let i = 0; i < 2; i += 1)
      hubs.push({ database: await createTestDatabase(), prefix: randomTopicPrefix() });
    const env = (hub: { database: TestDatabase; prefix: string }) => ({
      DATABASE_URL: hub.database.url,
      KAFKA_TOPIC_PREFIX: hub.prefix,
      AUTH_JWKS_FILE: keys.jwksFile,
      CORRELATION_TOO_COMMON_ORGANISATIONS: TOO_COMMON,
      CORRELATOR_WATCHLIST_POLL_MS: '200',
      FEED_SWEEP_MS: '200',
    });
    // Started together (so they race on migrations and topics), with time to spare on a busy machine.
    const specs = [
      { name: 'ingest' as const, env: env(hubs[0]!), label: 'ingest' },
      { name: 'correlator' as const, env: env(hubs[0]!), label: 'correlator-a' },
      ...[1, 2, 3].map((n) => ({
        name: 'correlator' as const,
        env: env(hubs[1]!),
        label: `correlator-b${n}`,
      })),
    ];
    const results = await Promise.allSettled(
      specs.map((spec) => spawnService(spec.name, spec.env, { label: spec.label, readyTimeoutMs: 180_000 })),
    );
    processes.push(...results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    ingestUrl = processes[0]!.url!;
    await waitUntilReady(ingestUrl, 120_000);
    // Only registered organisations may submit: ingest hears of these at once.
    await registerOrganisations(hubs[0]!.database, [
      ...ORGANISATIONS.map(([id, sector]) => ({
        id,
        sector,
        kind: id.endsWith('ceptar')
          ? ('ceptar' as const)
          : id.endsWith('csirt')
            ? ('agency' as const)
            : ('operator' as const),
      })),
      TEST_ORGANISATIONS.gsoc,
    ]);
    registry = await startRegistryCache({
      pool: hubs[0]!.database.pool,
      databaseUrl: hubs[0]!.database.url,
      logger: createLogger('gateway-test', 'silent'),
      pollEveryMs: 1_000,
    });
    // The gateway's routes in this process: the watchlist is written where the correlator reads it.
    gateway = await buildGatewayApp({
      logger: createLogger('gateway-test', 'silent'),
      pool: hubs[0]!.database.pool,
      hub: new StreamHub({
        position: '0',
        readFeed: (after, upTo, limit) => readFeed(hubs[0]!.database.pool, after, limit, upTo),
        maxBufferedBytes: 1024 * 1024,
        logger: createLogger('gateway-test', 'silent'),
      }),
      verifyToken: await loadTokenVerifier({
        AUTH_JWKS_FILE: keys.jwksFile,
        AUTH_ISSUER: 'renkei',
        AUTH_AUDIENCE: 'renkei-api',
      }),
      registry,
      checkReadiness: async () => true,
    });
    for (const [org, sector] of ORGANISATIONS) {
      tokens.set(org, await keys.token({ org, sector, roles: ['reporter'] }));
    }
    analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'], sub: 'ana' });
  });

  afterAll(async () => {
    await gateway?.close(1_000);
    await registry?.close();
    await Promise.all(processes.map((service) => service.stop()));
    for (const hub of hubs) {
      await hub.database.drop();
      await deleteTopicsWithPrefix(hub.prefix);
    }
    await keys?.remove();
  });

  it('gives the same alerts with three correlators as with one, each alert’s versions in order on the topic', async () => {
    const burst = mixedBurst(BURST);
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (const hub of hubs) {
        for (let i = 0; i < burst.length; i += 100) {
          await producer.send({
            topic: `${hub.prefix}renkei.reports.v1`,
            acks: -1,
            messages: burst.slice(i, i + 100).map((e) => ({ key: e.id, value: JSON.stringify(e) })),
          });
        }
      }
    } finally {
      await producer.disconnect();
    }
    for (const { database } of hubs) {
      await eventually(
        async () => {
          const { rows } = await database.pool.query<{ stored: number; waiting: number }>(
            `SELECT (SELECT count(*)::int FROM reports) AS stored,
                    (SELECT count(*)::int FROM feed_outbox)
                  + (SELECT count(*)::int FROM feed_events WHERE published_at IS NULL) AS waiting`,
          );
          expect(rows[0]).toEqual({ stored: BURST, waiting: 0 });
        },
        { timeoutMs: 90_000 },
      );
    }
    // Every correlator of hub B took part.
    for (const correlator of processes.slice(2)) {
      expect(correlator.lines.some((line) => line.msg === 'report stored')).toBe(true);
    }

    const [one, three] = await Promise.all(hubs.map(({ database }) => finalAlerts(database)));
    const kinds = new Set([...one!.values()].map((alert) => alert.kind));
    expect([...kinds].sort()).toEqual(['campaign', 'sector-surge', 'shared-indicator']);
    expect([...one!.values()].some((alert) => alert.tooCommon)).toBe(true);
    expect([...one!.values()].filter((alert) => !alert.tooCommon).length).toBeGreaterThan(10);
    expect([...three!.keys()].sort()).toEqual([...one!.keys()].sort());
    for (const [id, alert] of three!) expect(settled(alert), id).toEqual(settled(one!.get(id)!));

    for (const [index, { prefix }] of hubs.entries()) {
      const onTopic = await readWholeTopic<AlertRecord>(`${prefix}renkei.alerts.v1`);
      const versions = new Map<string, number[]>();
      for (const record of onTopic)
        versions.set(record.id, [...(versions.get(record.id) ?? []), record.version]);
      const finals = [one, three][index]!;
      expect(versions.size).toBe(finals.size);
      for (const [id, seen] of versions) {
        // A relay may send a version again after a crash; in order, each once otherwise.
        const distinct = seen.filter((version, i) => version !== seen[i - 1]);
        expect(distinct, id).toEqual(Array.from({ length: finals.get(id)!.version }, (_, i) => i + 1));
      }
    }
  });

  it('suppresses a value on a shipped warning list, showing the list’s name', async () => {
    const ids: string[] = [];
    for (const org of ['mof-csirt', 'rail-ceptar', 'bank-ceptar']) {
      ids.push(await submit(org, { indicators: [{ type: 'ipv4', value: '8.8.8[.]8' }] }));
    }
    const view = await processed(ids[2]!, 'bank-ceptar');
    expect(view.indicators).toEqual([
      {
        type: 'ipv4',
        value: '8.8.8[.]8',
        canonical: { type: 'ipv4', value: '8.8.8.8' },
        derived: false,
        suppressedBy: 'List of known IPv4 public DNS resolvers',
      },
    ]);
    await sleep(1_000);
    expect(await alertsCarrying('8.8.8.8')).toEqual([]);
  });

  it('raises one alert for one URL written two ways, and version 2 for a third organisation', async () => {
    await submit('mof-csirt', { indicators: [{ type: 'url', value: 'hxxps://Evil[.]Example/x' }] });
    const second = await submit('rail-ceptar', {
      indicators: [{ type: 'url', value: 'https://evil.example/x' }],
    });
    const view = await processed(second, 'rail-ceptar');
    expect(view.indicators.map((i) => [i.canonical?.value, i.derived])).toEqual([
      ['https://evil.example/x', false],
      ['evil.example', true],
    ]);
    const [first] = await eventually(async () => {
      const alerts = await alertsCarrying('evil.example');
      expect(alerts).toHaveLength(1);
      return alerts;
    });
    expect(first).toMatchObject({ kind: 'shared-indicator', version: 1, organisationCount: 2 });
    expect(first!.indicators).toEqual([{ type: 'url', value: 'https://evil.example/x' }]);

    await submit('bank-ceptar', { indicators: [{ type: 'url', value: 'HTTPS://EVIL.EXAMPLE:443/x' }] });
    const [grown] = await eventually(async () => {
      const alerts = await alertsCarrying('evil.example');
      expect(alerts[0]?.version).toBe(2);
      return alerts;
    });
    expect(grown!.id).toBe(first!.id);
    expect(await alertsCarrying('evil.example')).toHaveLength(1);
  });

  it('raises nothing for two reports 30 days apart', async () => {
    await submit('mof-csirt', {
      detectedAt: '2026-05-01T00:00:00Z',
      indicators: [{ type: 'domain', value: 'slow-burn.example' }],
    });
    const later = await submit('rail-ceptar', {
      detectedAt: '2026-05-31T00:00:00Z',
      indicators: [{ type: 'domain', value: 'slow-burn.example' }],
    });
    await processed(later, 'rail-ceptar');
    await sleep(1_000);
    expect(await alertsCarrying('slow-burn.example')).toEqual([]);
  });

  it('raises watchlist-match from one report once an analyst watches the indicator', async () => {
    const added = await gateway.app.inject({
      method: 'POST',
      url: '/v1/watchlist',
      headers: { authorization: `Bearer ${analyst}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ type: 'domain', value: 'watched[.]example', note: 'known phishing kit' }),
    });
    expect(added.statusCode).toBe(201);
    const entry = added.json<{ id: string }>();
    await sleep(500);
    await submit('mof-csirt', {
      detectedAt: new Date().toISOString(),
      indicators: [
        { type: 'url', value: 'https://login.watched.example/' },
        { type: 'domain', value: 'Watched.example' },
      ],
    });
    const [alert] = await eventually(async () => {
      const alerts = (await alertsCarrying('watched.example')).filter((a) => a.kind === 'watchlist-match');
      expect(alerts).toHaveLength(1);
      return alerts;
    });
    expect(alert).toMatchObject({ watchlistEntryId: entry.id, organisationCount: 1, version: 1 });
  });

  it('raises sector-surge for five reports of one category from one sector within an hour', async () => {
    const base = Date.parse('2026-06-10T01:00:00Z');
    for (let i = 0; i < 5; i += 1) {
      await submit(i % 2 ? 'bank-ceptar' : 'card-ceptar', {
        category: 'ddos',
        detectedAt: new Date(base + i * 10 * 60_000).toISOString(),
        indicators: [],
      });
    }
    const [surge] = await eventually(async () => {
      const { rows } = await hubs[0]!.database.pool.query<{ record: AlertRecord }>(
        `SELECT record FROM alerts WHERE kind = 'sector-surge' AND record->>'title' LIKE '%ddos%'`,
      );
      expect(rows).toHaveLength(1);
      return rows.map((row) => row.record);
    });
    expect(surge).toMatchObject({ sectors: ['finance'], organisationCount: 2 });
    expect(surge!.contributions).toHaveLength(5);
  });

  async function submit(org: string, overrides: Partial<ReportSubmission>): Promise<string> {
    const response = await fetch(`${ingestUrl}/v1/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.get(org)}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Scenario report',
        category: 'malware',
        severity: 'medium',
        tlp: 'GREEN',
        detectedAt: '2026-04-01T00:00:00Z',
        indicators: [],
        ...overrides,
      } satisfies ReportSubmission),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }

  async function processed(id: string, org: string) {
    return eventually(async () => {
      const response = await fetch(`${ingestUrl}/v1/reports/${id}`, {
        headers: { authorization: `Bearer ${tokens.get(org)}` },
      });
      const view = reportStatusViewSchema.parse(await response.json());
      expect(view.status).toBe('processed');
      return view;
    });
  }

  async function alertsCarrying(value: string): Promise<AlertRecord[]> {
    const { rows } = await hubs[0]!.database.pool.query<{ record: AlertRecord }>(
      `SELECT record FROM alerts WHERE record::text LIKE $1 ORDER BY created_at`,
      [`%${value}%`],
    );
    return rows.map((row) => row.record);
  }
});

const ORGANISATIONS: [string, Sector][] = [
  ['mof-csirt', 'central-government'],
  ['mlit-csirt', 'central-government'],
  ['rail-ceptar', 'railway'],
  ['bank-ceptar', 'finance'],
  ['card-ceptar', 'finance'],
  ['power-ceptar', 'electricity'],
  ['water-ceptar', 'water'],
  ['telco-op', 'telecom'],
];

/** A seeded mix: shared and unique indicators (some defanged, some on warning lists), campaigns, surges, drills. */
function mixedBurst(count: number): ReportEnvelope[] {
  let seed = 42;
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const shared: [IndicatorType, string][] = [
    ...Array.from({ length: 36 }, (_, i): [IndicatorType, string] => ['domain', `c2-${i}.burst.example`]),
    ...Array.from({ length: 12 }, (_, i): [IndicatorType, string] => ['ipv4', `45.33.${i}.156`]),
    ['url', 'hxxps://drop[.]burst[.]example/a'],
    ['url', 'https://drop.burst.example/b'],
    ['sha256', 'ab'.repeat(32)],
    ['ipv4', '8.8.4.4'],
  ];
  const base = Date.parse('2026-03-01T00:00:00Z');
  return Array.from({ length: count }, (_, i) => {
    const [org, sector] = pick(ORGANISATIONS);
    const id = randomUUID();
    const indicators = Array.from({ length: Math.floor(next() * 4) }, () => pick(shared)).map(
      ([type, value]) => ({
        type,
        value,
      }),
    );
    indicators.push({ type: 'domain', value: `unique-${i}.burst.example` });
    const detected =
      next() < 0.25
        ? base + 5 * 86_400_000 + Math.floor(next() * 50) * 60_000
        : base + Math.floor(next() * 30 * 24) * 3_600_000;
    return {
      schema: REPORT_ENVELOPE_SCHEMA,
      id,
      organisationId: org,
      sector,
      submittedBy: `${org}-user`,
      receivedAt: new Date(Date.parse('2026-04-01T00:00:00Z') + i * 1_000).toISOString(),
      contentSha256: '0'.repeat(64),
      report: {
        id,
        title: `Burst report ${i}`,
        category: pick<ReportCategory>(['malware', 'phishing', 'intrusion']),
        severity: pick(['low', 'medium', 'high'] as const),
        tlp: pick(['CLEAR', 'GREEN', 'AMBER'] as const),
        detectedAt: new Date(detected).toISOString(),
        indicators,
        exercise: next() < 0.1,
      },
    };
  });
}

async function finalAlerts(database: TestDatabase): Promise<Map<string, AlertRecord>> {
  const { rows } = await database.pool.query<{ record: AlertRecord }>('SELECT record FROM alerts');
  return new Map(rows.map((row) => [row.record.id, row.record]));
}

/**
 * What must not depend on the order reports were processed in: everything
 * but version numbers, `addedInVersion`, `createdAt` and the history's
 * times; for an alert a cap stopped, only that it is too common (which
 * reports it kept depends on which came before the cap).
 */
function settled(alert: AlertRecord) {
  if (alert.tooCommon) return { id: alert.id, kind: alert.kind, tooCommon: true };
  const { version: _v, history: _h, createdAt: _c, contributions, ...rest } = alert;
  return { ...rest, contributions: contributions.map(({ addedInVersion: _a, ...c }) => c) };
}
