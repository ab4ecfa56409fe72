import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CORRELATION_SETTINGS } from '@renkei/correlation';
import { REPORT_ENVELOPE_SCHEMA, type AlertRecord, type ReportEnvelope, type Sector } from '@renkei/schema';
import { createMigratedTestDatabase, type TestDatabase } from '@renkei/testing';
import { AlertCache } from '../../src/alert-cache.js';
import { processChunk, type ChunkItem } from '../../src/process-batch.js';
import { processReport, type CorrelationContext } from '../../src/process-report.js';
import { loadWarningLists } from '@renkei/indicators/load';

const ORGANISATIONS: [string, Sector][] = [
  ['a-csirt', 'central-government'],
  ['b-csirt', 'central-government'],
  ['c-ceptar', 'finance'],
  ['d-ceptar', 'finance'],
  ['e-op', 'telecom'],
];
const SHARED: [string, string][] = [
  ['domain', 'c2-a.example'],
  ['domain', 'c2-b[.]example'],
  ['ipv4', '45.33.32.156'],
  ['ipv4', '203.0.113.9'], // inside the excluded network below
  ['ipv4', '8.8.8.8'], // on a shipped warning list
  ['url', 'hxxps://C2-A[.]example/gate.php'],
  ['md5', 'c4ca4238a0b923820dcc509a6f75849b'],
  ['domain', 'watched.example'],
  ['domain', 'excluded.example'],
];
const DAY = 86_400_000;
const BASE = Date.UTC(2026, 10, 1);

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A mixed burst in which every rule fires, some indicators pass the (small) cap, some are suppressed. */
function burst(count: number): ChunkItem[] {
  const next = seeded(9);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  return Array.from({ length: count }, (_, i) => {
    const [organisationId, sector] = pick(ORGANISATIONS);
    const id = randomUUID();
    const detected =
      next() < 0.4 ? BASE + 3 * DAY + Math.floor(next() * 40) * 60_000 : BASE + Math.floor(next() * 30 * DAY);
    const indicators = [];
    for (let k = Math.floor(next() * 4); k > 0; k -= 1) {
      const [type, value] = pick(SHARED);
      indicators.push({ type, value });
    }
    indicators.push({ type: 'domain', value: `unique-${i}.example` });
    const envelope: ReportEnvelope = {
      schema: REPORT_ENVELOPE_SCHEMA,
      id,
      organisationId,
      sector,
      submittedBy: `${organisationId}-user`,
      receivedAt: new Date(BASE + 40 * DAY + i * 1_000).toISOString(),
      contentSha256: 'a'.repeat(64),
      report: {
        id,
        title: `report ${i}`,
        category: pick(['malware', 'phishing'] as const),
        severity: pick(['low', 'high'] as const),
        tlp: pick(['GREEN', 'AMBER'] as const),
        detectedAt: new Date(detected).toISOString(),
        indicators: indicators as ReportEnvelope['report']['indicators'],
        exercise: next() < 0.1,
      },
    };
    return { envelope, at: { topic: 'renkei.reports.v1', partition: 0, offset: String(i) } };
  });
}

/** Everything the correlator writes, in a form two databases can be compared by. */
async function written(database: TestDatabase) {
  const q = async (sql: string) => (await database.pool.query(sql)).rows;
  return {
    reports: await q(`SELECT id, kafka_offset FROM reports ORDER BY id`),
    indicators: await q(
      `SELECT report_id, position, type, value, normalized_value, canonical_type, role FROM report_indicators ORDER BY 1, 2`,
    ),
    sightings: await q(
      `SELECT report_id, type, value, exercise, detected_at, written, host_of, suppressed_by FROM sightings ORDER BY 1, 2, 3`,
    ),
    tooCommon: await q(`SELECT exercise, type, value FROM too_common_indicators ORDER BY 1, 2, 3`),
    alerts: await q(
      `SELECT id, correlation_key, kind, version, exercise, tlp, severity, record FROM alerts ORDER BY id`,
    ),
    versions: await q(
      `SELECT alert_id, version, record, caused_by_report_id FROM alert_versions ORDER BY 1, 2`,
    ),
    // The feed's order: every alert's versions in version order.
    outbox: await q(`SELECT kind, alert_id, alert_version, report_id FROM feed_outbox ORDER BY id`),
  };
}

/** An alert row without what depends on how reports were grouped into transactions. */
function settled(row: Record<string, unknown>) {
  const { version: _v, record, ...rest } = row;
  const { version: _rv, history: _h, contributions, ...fields } = record as AlertRecord;
  return {
    ...rest,
    record: { ...fields, contributions: contributions.map(({ addedInVersion: _a, ...c }) => c) },
  };
}

function inVersionOrder(outbox: readonly Record<string, unknown>[]): boolean {
  const last = new Map<unknown, number>();
  for (const row of outbox) {
    if (row.kind !== 'alert') continue;
    const version = row.alert_version as number;
    if ((last.get(row.alert_id) ?? 0) + 1 !== version) return false;
    last.set(row.alert_id, version);
  }
  return true;
}

describe('processChunk', () => {
  const databases: TestDatabase[] = [];
  let context: CorrelationContext;
  const items = burst(160);

  beforeAll(async () => {
    context = {
      settings: { ...DEFAULT_CORRELATION_SETTINGS, tooCommonOrganisations: 3, maxContributions: 6 },
      warningLists: await loadWarningLists({ extraDir: undefined, disabled: [] }),
    };
    for (let i = 0; i < 2; i += 1) {
      const database = await createMigratedTestDatabase();
      databases.push(database);
      await database.pool.query(
        `INSERT INTO exclusions (id, type, canonical, network, note, created_by, created_at) VALUES
           ($1, 'domain', 'excluded.example', NULL, 'ours', 'test', $3),
           ($2, 'ipv4', NULL, '203.0.113.0/24', 'our scanners', 'test', $3)`,
        [
          '11111111-1111-4111-8111-111111111111',
          '11111111-1111-4111-8111-111111111112',
          new Date(BASE).toISOString(),
        ],
      );
      await database.pool.query(
        `INSERT INTO watchlist_entries (id, type, value, canonical_type, canonical, note, created_by, created_at, backfilled_at)
         VALUES ($1, 'domain', 'watched.example', 'domain', 'watched.example', 'kit', 'test', $2, now())`,
        ['22222222-2222-4222-8222-222222222222', new Date(BASE).toISOString()],
      );
    }
  }, 60_000);
  afterAll(async () => {
    for (const database of databases) await database.drop();
  });

  it('stores what processReport stores one report at a time, and the same alerts in fewer versions', async () => {
    const [single, chunked] = databases as [TestDatabase, TestDatabase];
    for (const item of items) await processReport(single.pool, item.envelope, item.at, context);

    // Uneven chunks; a redelivery inside a chunk; a chunk delivered again after its commit.
    const sizes = [1, 7, 40, 13, 64, 35];
    let start = 0;
    for (const size of sizes) {
      const chunk = items.slice(start, start + size);
      const outcomes = await processChunk(chunked.pool, [...chunk, chunk[0]!], context);
      expect(outcomes.slice(0, -1).every((outcome) => outcome.stored)).toBe(true);
      expect(outcomes.at(-1)).toEqual({ stored: false });
      if (size === 40) {
        const again = await processChunk(chunked.pool, chunk, context);
        expect(again.every((outcome) => !outcome.stored)).toBe(true);
      }
      start += size;
    }
    expect(start).toBe(items.length);

    const expected = await written(single);
    const actual = await written(chunked);
    const kinds = new Set(expected.alerts.map((row) => row.kind));
    expect([...kinds].sort()).toEqual(['campaign', 'sector-surge', 'shared-indicator', 'watchlist-match']);
    expect(expected.alerts.some((row) => (row.record as { tooCommon: boolean }).tooCommon)).toBe(true);
    expect(new Set(expected.sightings.map((row) => row.suppressed_by)).size).toBeGreaterThan(2);
    const { alerts, versions, outbox, ...stored } = actual;
    const { alerts: oneByOneAlerts, versions: oneByOneVersions, outbox: _o, ...storedOneByOne } = expected;
    expect(stored).toEqual(storedOneByOne);
    // The alerts end the same; a chunk is one transaction, so it gives each alert at most one version.
    expect(alerts.map(settled)).toEqual(oneByOneAlerts.map(settled));
    expect(versions.length).toBeLessThan(oneByOneVersions.length);
    for (const alert of alerts) {
      const own = versions.filter((row) => row.alert_id === alert.id);
      expect(own.map((row) => row.version)).toEqual(Array.from({ length: alert.version }, (_, i) => i + 1));
      expect(own.at(-1)!.record).toEqual(alert.record);
    }
    expect(outbox.map((row) => [row.alert_id, row.alert_version]).sort()).toEqual(
      versions.map((row) => [row.alert_id, row.version]).sort(),
    );
    expect(inVersionOrder(outbox)).toBe(true);
  });

  it('with an alert cache, stores exactly what it stores without one, whoever else writes and whatever rolls back', async () => {
    const [plain, cached] = [await createMigratedTestDatabase(), await createMigratedTestDatabase()];
    databases.push(plain, cached);
    const cache = new AlertCache();
    const withCache = { ...context, alertCache: cache };
    const chunks = [items.slice(0, 30), items.slice(30, 60), items.slice(60, 100), items.slice(100, 160)];
    const refuse = (db: TestDatabase, on: boolean) =>
      db.pool.query(
        on
          ? 'ALTER TABLE alert_versions ADD CONSTRAINT test_refuse CHECK (version < 0) NOT VALID'
          : 'ALTER TABLE alert_versions DROP CONSTRAINT test_refuse',
      );

    await processChunk(plain.pool, chunks[0]!, context);
    await processChunk(cached.pool, chunks[0]!, withCache);
    expect(cache.size).toBeGreaterThan(0);
    // Another correlator (with a cache of its own) extends the same alerts.
    await processChunk(plain.pool, chunks[1]!, context);
    await processChunk(cached.pool, chunks[1]!, { ...context, alertCache: new AlertCache() });
    // A chunk rolls back after its versions were built; another writer then gives the same
    // alerts the same version numbers without its first report: what rolled back must not be used.
    await refuse(cached, true);
    try {
      await expect(processChunk(cached.pool, chunks[2]!, withCache)).rejects.toThrow();
    } finally {
      await refuse(cached, false);
    }
    await processChunk(plain.pool, chunks[2]!.slice(1), context);
    await processChunk(cached.pool, chunks[2]!.slice(1), context);
    await processChunk(plain.pool, chunks[3]!, context);
    await processChunk(cached.pool, chunks[3]!, withCache);

    expect(await written(cached)).toEqual(await written(plain));
    // Whatever the cache holds now is each alert's latest committed record.
    const { rows } = await cached.pool.query<{ correlation_key: string; record: AlertRecord }>(
      `SELECT correlation_key, record FROM alerts`,
    );
    let held = 0;
    for (const row of rows) {
      const record = cache.get(row.correlation_key);
      if (!record) continue;
      held += 1;
      expect(JSON.parse(JSON.stringify(record))).toEqual(row.record);
    }
    expect(held).toBeGreaterThan(0);
  });

  it('never takes from the cache a version its own transaction built and rolled back', async () => {
    const database = await createMigratedTestDatabase();
    databases.push(database);
    const cache = new AlertCache();
    const withCache = { ...context, alertCache: cache };
    const domain = `cached-${randomUUID()}.example`;
    // Three organisations' reports of one fresh domain (under the test's cap), received one after the other.
    const [a, b, x, y, z] = burst(5).map((item, i) => {
      const [organisationId, sector] = ORGANISATIONS[[0, 1, 2, 0, 1][i]!]!;
      return {
        ...item,
        envelope: {
          ...item.envelope,
          organisationId,
          sector,
          report: {
            ...item.envelope.report,
            detectedAt: new Date(BASE + i * 60_000).toISOString(),
            exercise: false,
            indicators: [{ type: 'domain' as const, value: domain }],
          },
        },
      };
    });
    await processChunk(database.pool, [a!, b!], withCache); // version 1, cached
    await database.pool.query(
      'ALTER TABLE alert_versions ADD CONSTRAINT test_refuse CHECK (version < 0) NOT VALID',
    );
    try {
      // Builds version 2 holding x and y, then rolls back.
      await expect(processChunk(database.pool, [x!, y!], withCache)).rejects.toThrow();
    } finally {
      await database.pool.query('ALTER TABLE alert_versions DROP CONSTRAINT test_refuse');
    }
    // Another correlator writes a version 2 with y alone: same version, same times.
    await processChunk(database.pool, [y!], context);
    const [third] = await processChunk(database.pool, [z!], withCache);
    const record = third!.stored ? third!.alerts[0] : undefined;
    expect(record?.version).toBe(3);
    const reports = (r: ChunkItem) => r.envelope.report.id;
    expect(record?.contributions.map((c) => c.reportId).sort()).toEqual([a!, b!, y!, z!].map(reports).sort());
  });

  it('returns each report’s alert versions, and stores nothing when the transaction fails', async () => {
    const [, database] = databases as [TestDatabase, TestDatabase];
    const domain = `pair-${randomUUID()}.example`;
    const pair = burst(2).map((item, i) => {
      const [organisationId, sector] = ORGANISATIONS[i]!;
      return {
        ...item,
        envelope: {
          ...item.envelope,
          organisationId,
          sector,
          report: { ...item.envelope.report, indicators: [{ type: 'domain' as const, value: domain }] },
        },
      };
    });
    await database.pool.query(
      `ALTER TABLE alert_versions ADD CONSTRAINT test_refuse CHECK (record->>'title' NOT LIKE '%pair-%')`,
    );
    try {
      await expect(processChunk(database.pool, pair, context)).rejects.toThrow();
    } finally {
      await database.pool.query('ALTER TABLE alert_versions DROP CONSTRAINT test_refuse');
    }
    const ids = pair.map((item) => item.envelope.report.id);
    const stored = await database.pool.query(`SELECT count(*)::int AS n FROM reports WHERE id = ANY($1)`, [
      ids,
    ]);
    expect(stored.rows[0].n).toBe(0);

    const [first, second] = await processChunk(database.pool, pair, context);
    expect(first).toEqual({ stored: true, alerts: [] });
    expect(second!.stored && second!.alerts.map((alert) => [alert.kind, alert.version])).toEqual([
      ['shared-indicator', 1],
    ]);
  });
});
