/**
 * How long the largest exports hold the gateway's event loop. A gateway is
 * built in this process on a database of its own holding REPORTS reports
 * (five indicators each), as many alerts (each two versions, the second
 * adding another organisation's RED report) and a thousand warnings; then,
 * one request at a time, `GET /v1/stix/bundle?limit=10000` (an analyst and a
 * member) and a TAXII page of the community collection (a member), each with
 * `perf_hooks.monitorEventLoopDelay` running. The longest stall is what a
 * `/healthz` or a stream frame would wait behind that request.
 *
 *   node_modules/.bin/tsx bench/export-event-loop.ts          # 10,000 of each
 *   node_modules/.bin/tsx bench/export-event-loop.ts 2000
 */
// Relative imports: the root package does not depend on the gateway's internals.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadTokenVerifier } from '../packages/auth/src/index.js';
import { readFeed } from '../packages/feed/src/index.js';
import { startRegistryCache } from '../packages/registry/src/index.js';
import { createLogger } from '../packages/runtime/src/index.js';
import type { AlertRecord } from '../packages/schema/src/index.js';
import {
  alertRecordFixture,
  contributionFixture,
  createMigratedTestDatabase,
  createTestKeys,
  registerOrganisations,
  TEST_ORGANISATIONS,
} from '../packages/testing/src/index.js';
import { buildGatewayApp } from '../services/gateway/src/app.js';
import { StreamHub } from '../services/gateway/src/stream-hub.js';

const COUNT = Number(process.argv[2] ?? 10_000);
const logger = createLogger('bench', 'silent');
const database = await createMigratedTestDatabase();
const keys = await createTestKeys();

try {
  await registerOrganisations(database, Object.values(TEST_ORGANISATIONS));
  const started = performance.now();
  await database.pool.query(
    `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp, detected_at,
                          received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset, processed_at)
     SELECT gen_random_uuid(), (ARRAY['mlit-csirt','acme-bank','water-ceptar','finance-ceptar'])[1 + n % 4],
            (ARRAY['central-government','finance','water','finance'])[1 + n % 4], 'bench', 'Report ' || n, 'phishing',
            'high', (ARRAY['GREEN','CLEAR','AMBER','GREEN','RED'])[1 + n % 5], now(), now(), false, repeat('0', 64),
            'bench', 0, n, now() - make_interval(secs => $1 - n)
       FROM generate_series(1, $1) AS n`,
    [COUNT],
  );
  await database.pool.query(
    `INSERT INTO report_indicators (report_id, position, type, value, normalized_value, canonical_type)
     SELECT r.id, i, 'domain', 'd' || r.kafka_offset || '-' || i || '.example', 'd' || r.kafka_offset || '-' || i || '.example', 'domain'
       FROM reports r, generate_series(0, 4) AS i`,
  );
  const causedBy = (await database.pool.query<{ id: string }>('SELECT id FROM reports LIMIT 1')).rows[0]!.id;
  for (let start = 0; start < COUNT; start += 1_000) {
    const versions: { record: AlertRecord; version: number; at: string; position: number }[] = [];
    for (let n = start; n < Math.min(COUNT, start + 1_000); n += 1) {
      const at = (offset: number) => new Date(Date.UTC(2026, 10, 1) + n * 1_000 + offset).toISOString();
      const indicators = [{ type: 'domain' as const, value: `a${n}.example` }];
      const first = alertRecordFixture({
        id: randomUUID(),
        indicators,
        contributions: [
          contributionFixture({ organisationId: 'acme-bank', indicators }),
          contributionFixture({ organisationId: 'water-ceptar', sector: 'water', indicators }),
        ],
        createdAt: at(0),
        updatedAt: at(0),
      });
      const second: AlertRecord = {
        ...first,
        version: 2,
        tlp: 'RED',
        contributions: [
          ...first.contributions,
          contributionFixture({ organisationId: 'mlit-csirt', tlp: 'RED', indicators, addedInVersion: 2 }),
        ],
        history: [...first.history, { version: 2, at: at(500), change: 'contribution' }],
        updatedAt: at(500),
      };
      versions.push({ record: first, version: 1, at: at(0), position: 2 * n + 1 });
      versions.push({ record: second, version: 2, at: at(500), position: 2 * n + 2 });
    }
    await database.pool.query(
      `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, position, record, created_at, updated_at)
       SELECT (r->>'id')::uuid, r->>'id', r->>'kind', 2, false, 'RED', 'high', p, r, now(), now()
         FROM unnest($1::jsonb[], $2::bigint[]) AS t(r, p)`,
      [
        versions.filter((v) => v.version === 2).map((v) => v.record),
        versions.filter((v) => v.version === 2).map((v) => v.position),
      ],
    );
    await database.pool.query(
      `INSERT INTO alert_versions (position, alert_id, version, record, caused_by_report_id, created_at)
       SELECT p, (r->>'id')::uuid, v, r, $4, at FROM unnest($1::jsonb[], $2::int[], $3::bigint[], $5::timestamptz[]) AS t(r, v, p, at)`,
      [
        versions.map((v) => v.record),
        versions.map((v) => v.version),
        versions.map((v) => v.position),
        causedBy,
        versions.map((v) => v.at),
      ],
    );
  }
  await database.pool.query(
    `INSERT INTO warnings (id, sectors, exercise, published_by, published_at, record)
     SELECT id, NULL, false, 'bench', now(), jsonb_build_object('id', id, 'title', 'Warning', 'body', 'Look out',
            'severity', 'high', 'tlp', 'GREEN', 'sectors', 'all', 'indicators', '[]'::jsonb, 'alertIds', '[]'::jsonb,
            'publishedAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'publishedBy', 'bench',
            'exercise', false)
       FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, 1000)) AS w`,
  );
  console.log(
    `stored ${COUNT} reports, ${COUNT} alerts (2 versions each), 1000 warnings in ${Math.round(performance.now() - started)} ms`,
  );

  const registry = await startRegistryCache({
    pool: database.pool,
    databaseUrl: database.url,
    logger,
    pollEveryMs: 60_000,
  });
  const http = await buildGatewayApp({
    logger,
    pool: database.pool,
    hub: new StreamHub({
      position: '0',
      readFeed: (after, upTo, limit) => readFeed(database.pool, after, limit, upTo),
      maxBufferedBytes: 1024 * 1024,
      logger,
    }),
    verifyToken: await loadTokenVerifier({
      AUTH_JWKS_FILE: keys.jwksFile,
      AUTH_ISSUER: 'renkei',
      AUTH_AUDIENCE: 'renkei-api',
    }),
    registry,
    checkReadiness: async () => true,
    taxii: { publicWithoutToken: false, ingestUrl: 'http://127.0.0.1:9', cacheMs: 0 },
  });
  const analyst = await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] });
  const member = await keys.token({ org: 'water-ceptar', sector: 'water', roles: ['ceptar'] });
  const taxii = 'application/taxii+json;version=2.1';
  const collections = (
    await http.app.inject({
      url: '/taxii2/renkei/collections/',
      headers: { authorization: `Bearer ${member}`, accept: taxii },
    })
  ).json() as { collections: { id: string; title: string }[] };
  const community = collections.collections.find((c) => c.title.startsWith('Renkei community'))!.id;

  const url = await http.listen({ host: '127.0.0.1', port: 0, onFailure: () => undefined });
  // The client is another process (curl), so its work on the body is not counted against the gateway.
  const fetchOut = async (path: string, token: string, accept?: string) => {
    const { stdout } = await promisify(execFile)(
      'curl',
      [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code} %{size_download}',
        '-H',
        `authorization: Bearer ${token}`,
        ...(accept ? ['-H', `accept: ${accept}`] : []),
        `${url}${path}`,
      ],
      { maxBuffer: 1024 * 1024 },
    );
    const [status, bytes] = stdout.split(' ').map(Number);
    return { status: status!, bytes: bytes! };
  };

  const cases = [
    { name: 'idle (no request): the machine itself', url: '', token: analyst },
    { name: 'stix bundle, limit 10000, analyst', url: '/v1/stix/bundle?limit=10000', token: analyst },
    { name: 'stix bundle, limit 10000, member', url: '/v1/stix/bundle?limit=10000', token: member },
    {
      name: 'taxii community page (1000), member',
      url: `/taxii2/renkei/collections/${community}/objects/?limit=1000`,
      token: member,
      accept: taxii,
    },
  ];
  for (const round of [1, 2]) {
    for (const { name, url, token, accept } of cases) {
      const histogram = monitorEventLoopDelay({ resolution: 5 });
      histogram.enable();
      // A second witness: the longest gap between ticks of a 1 ms interval.
      let gap = 0;
      let last = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        gap = Math.max(gap, now - last);
        last = now;
      }, 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const begin = performance.now();
      const response = url
        ? await fetchOut(url, token, accept)
        : await new Promise<{ status: number; bytes: number }>((resolve) =>
            setTimeout(() => resolve({ status: 0, bytes: 0 }), 3_000),
          );
      const took = performance.now() - begin;
      await new Promise((resolve) => setTimeout(resolve, 20));
      clearInterval(ticker);
      histogram.disable();
      console.log(
        JSON.stringify({
          round,
          case: name,
          status: response.status,
          bytes: response.bytes,
          requestMs: Math.round(took),
          maxEventLoopDelayMs: Math.round(histogram.max / 1e6),
          p99EventLoopDelayMs: Math.round(histogram.percentile(99) / 1e6),
          longestTickGapMs: Math.round(gap),
        }),
      );
    }
  }
  await http.close(1_000);
  await registry.close();
} finally {
  await database.drop();
  await keys.remove();
}
