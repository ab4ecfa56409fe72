import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertFrame, AlertRecord, OrganisationKind, ReportSubmission, Sector } from '@renkei/schema';
import {
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  openStream,
  randomTopicPrefix,
  sleep,
  spawnService,
  registerOrganisations,
  spawnServices,
  TEST_ORGANISATIONS,
  readWholeTopic,
  waitUntilReady,
  type ServiceProcess,
  type StreamClient,
  type TestDatabase,
  type TestKeys,
} from '@renkei/testing';

const REPORTS = 80;
const ORGANISATIONS: { org: string; sector: Sector; kind: OrganisationKind }[] = [
  { org: 'mof-csirt', sector: 'central-government', kind: 'agency' },
  { org: 'telecom-ceptar', sector: 'telecom', kind: 'ceptar' },
  { org: 'rail-ceptar', sector: 'railway', kind: 'ceptar' },
  { org: 'power-ceptar', sector: 'electricity', kind: 'ceptar' },
];

/**
 * Reports 2k and 2k+1 come from two different organisations and share one
 * domain, so exactly REPORTS / 2 alerts must exist, each at version 1, however
 * often the correlator dies on the way. Pairs are detected two hours apart,
 * so no sector ever has a surge.
 */
function reportNumber(i: number): ReportSubmission {
  return {
    title: `Beaconing host #${i}`,
    category: 'malware',
    severity: 'medium',
    tlp: 'GREEN',
    detectedAt: new Date(Date.parse('2026-11-28T10:00:00Z') - Math.floor(i / 2) * 7_200_000).toISOString(),
    indicators: [
      { type: 'domain', value: `c2-${Math.floor(i / 2)}.crash-test.example` },
      { type: 'domain', value: `only-${i}.crash-test.example` },
    ],
  };
}

describe('the correlator killed while reports flow', () => {
  let database: TestDatabase;
  let keys: TestKeys;
  let prefix: string;
  let env: Record<string, string>;
  const processes: ServiceProcess[] = [];
  let analyst: StreamClient;

  beforeAll(async () => {
    [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
    await registerOrganisations(database, [
      TEST_ORGANISATIONS.gsoc,
      ...ORGANISATIONS.map(({ org, sector, kind }) => ({ id: org, sector, kind })),
    ]);
    prefix = randomTopicPrefix();
    env = {
      DATABASE_URL: database.url,
      KAFKA_TOPIC_PREFIX: prefix,
      AUTH_JWKS_FILE: keys.jwksFile,
      // A killed member's partitions move after this; short keeps the test short.
      CORRELATOR_SESSION_TIMEOUT_MS: '6000',
    };
    const [ingest, gateway, correlator] = await spawnServices([
      { name: 'ingest', env },
      { name: 'gateway', env },
      { name: 'correlator', env, label: 'correlator-first' },
    ]);
    processes.push(ingest!, gateway!, correlator!);
    await Promise.all([waitUntilReady(ingest!.url!), waitUntilReady(gateway!.url!)]);
    analyst = await openStream(
      gateway!.url!,
      await keys.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] }),
    );
  });

  afterAll(async () => {
    await analyst?.close();
    await Promise.all(processes.map((process) => process.stop()));
    await database?.drop();
    await keys?.remove();
    await deleteTopicsWithPrefix(prefix);
  });

  it('stores every accepted report once and raises every alert once', async () => {
    const [ingest, , firstCorrelator] = processes;
    const tokens = await Promise.all(
      ORGANISATIONS.map(({ org, sector }) => keys.token({ org, sector, roles: ['reporter'] })),
    );
    const storedCount = async () =>
      (await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM reports')).rows[0]!.n;

    const accepted: string[] = [];
    let storedWhenKilled = -1;
    let restarted: Promise<ServiceProcess> | undefined;
    for (let i = 0; i < REPORTS; i += 1) {
      const response = await fetch(`${ingest!.url}/v1/reports`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${tokens[i % ORGANISATIONS.length]}`,
        },
        body: JSON.stringify(reportNumber(i)),
      });
      expect(response.status).toBe(202);
      accepted.push(((await response.json()) as { id: string }).id);

      // Kill it once it is busy: some of the first 20 stored, others still in flight.
      if (i === 20) {
        await eventually(async () => expect(await storedCount()).toBeGreaterThanOrEqual(10), {
          timeoutMs: 60_000,
        });
        await firstCorrelator!.kill();
        storedWhenKilled = await storedCount();
      }
      // Bring a new correlator up while reports are still arriving.
      if (storedWhenKilled >= 0 && !restarted && i >= 50) {
        restarted = spawnService('correlator', env, { label: 'correlator-second' });
      }
    }
    expect(storedWhenKilled, 'the correlator was killed mid-stream').toBeGreaterThan(0);
    expect(storedWhenKilled).toBeLessThanOrEqual(21);
    processes.push(await restarted!);

    await eventually(async () => expect(await storedCount()).toBe(REPORTS), { timeoutMs: 60_000 });

    const reports = await database.pool.query<{ id: string }>('SELECT id FROM reports');
    expect(reports.rows.map((row) => row.id).sort()).toEqual([...accepted].sort());
    const indicators = await database.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM report_indicators',
    );
    expect(indicators.rows[0]!.n).toBe(REPORTS * 2);

    const versions = await eventually(
      async () => {
        const result = await database.pool.query<{ alert_id: string; version: number; published: boolean }>(
          `SELECT v.alert_id, v.version, f.published_at IS NOT NULL AS published
             FROM alert_versions v LEFT JOIN feed_events f ON f.position = v.position`,
        );
        expect(result.rows.filter((row) => row.published)).toHaveLength(REPORTS / 2);
        return result.rows;
      },
      { timeoutMs: 30_000 },
    );
    expect(versions).toHaveLength(REPORTS / 2);
    expect(new Set(versions.map((row) => row.alert_id)).size).toBe(REPORTS / 2);
    expect(versions.every((row) => row.version === 1)).toBe(true);

    // What an analyst sees: every alert, once.
    const alertFrames = () => analyst.frames.filter((frame): frame is AlertFrame => frame.type === 'alert');
    await eventually(() => expect(alertFrames()).toHaveLength(REPORTS / 2), { timeoutMs: 30_000 });
    await sleep(2_000);
    expect(alertFrames()).toHaveLength(REPORTS / 2);
    expect(new Set(alertFrames().map((frame) => frame.alert.id)).size).toBe(REPORTS / 2);
    expect(alertFrames().every((frame) => frame.alert.organisationCount === 2)).toBe(true);

    // And on the alerts topic nothing is missing (a version published twice is
    // allowed there, which is why consumers keep (id, version)).
    const published = await readWholeTopic<AlertRecord>(`${prefix}renkei.alerts.v1`);
    expect(new Set(published.map((alert) => `${alert.id}@${alert.version}`)).size).toBe(REPORTS / 2);
  });
});
