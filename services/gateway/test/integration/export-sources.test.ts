import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRecord, Principal, Tlp } from '@renkei/schema';
import {
  alertRecordFixture,
  contributionFixture,
  createMigratedTestDatabase,
  type TestDatabase,
} from '@renkei/testing';
import { loadExportSources } from '../../src/stix/load.js';

const analyst: Principal = {
  subject: 'a',
  organisationId: 'gsoc',
  sector: 'central-government',
  roles: ['analyst'],
};
const member: Principal = {
  subject: 'm',
  organisationId: 'acme-bank',
  sector: 'finance',
  roles: ['reporter'],
};

/**
 * Exports and TAXII go on from the last time a reader saw, and every time,
 * page and header a reader gets must come from its own view.
 */
describe('export sources, read page after page', () => {
  let database: TestDatabase;
  let position = 0;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function store(
    processedAt: string,
    organisationId = 'mlit-csirt',
    tlp: Tlp = 'GREEN',
  ): Promise<string> {
    const id = randomUUID();
    await database.pool.query(
      `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp, detected_at,
                            received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset, processed_at)
       VALUES ($1, $4, 'central-government', 'tester', 'r', 'phishing', 'high', $5, $2, $2, false, $3,
               'test', 0, 0, $2)`,
      [id, processedAt, '0'.repeat(64), organisationId, tlp],
    );
    return id;
  }

  /** Stores a version of an alert as the correlator and the sequencer would, written at `at`. */
  async function storeVersion(record: AlertRecord, at: string, causedBy: string): Promise<void> {
    position += 1;
    await database.pool.query(
      `INSERT INTO alerts (id, correlation_key, kind, version, exercise, tlp, severity, position, record, created_at, updated_at)
       VALUES ($1::uuid, $1::text, $2, $3, false, $4, $5, $6, $7, $8, $8)
       ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, tlp = EXCLUDED.tlp, position = EXCLUDED.position,
                                      record = EXCLUDED.record, updated_at = EXCLUDED.updated_at`,
      [record.id, record.kind, record.version, record.tlp, record.severity, position, record, at],
    );
    await database.pool.query(
      `INSERT INTO alert_versions (position, alert_id, version, record, caused_by_report_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [position, record.id, record.version, record, causedBy, at],
    );
  }

  it('never ends a page inside a millisecond, so going on from its last time skips nothing', async () => {
    const first = await store('2026-11-30T01:00:00.000Z');
    // Five in one millisecond (microseconds apart, as one transaction's rows may be).
    const chunk = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => store(`2026-11-30T01:00:00.001${String(n).padStart(3, '0')}Z`)),
    );
    const after = await store('2026-11-30T01:00:00.002Z');

    const pages: string[][] = [];
    let since: string | null = null;
    for (let n = 0; n < 10; n += 1) {
      const { sources, nextSince } = await loadExportSources(database.pool, analyst, { since, limit: 2 });
      pages.push(sources.reports.map((item) => item.id));
      if (nextSince === null) break;
      since = nextSince;
    }
    // The limit is 2, but the first page ends inside the chunk's millisecond: it takes all of it.
    expect(pages[0]).toHaveLength(6);
    expect(pages[0]![0]).toBe(first);
    expect(pages[1]).toEqual([after]);
    expect(pages.flat().sort()).toEqual([first, ...chunk, after].sort());
    expect(new Set(pages.flat()).size).toBe(7);
  });

  it("pages over the reader's own view: reports it may not read neither fill a page nor move Renkei-Next-Since", async () => {
    // Three RED reports of another organisation, then two GREEN ones.
    for (const minute of [1, 2, 3]) await store(`2026-12-01T00:0${minute}:00.000Z`, 'mlit-csirt', 'RED');
    const green = [await store('2026-12-01T00:04:00.000Z'), await store('2026-12-01T00:05:00.000Z')];
    const since = '2026-12-01T00:00:00.000Z';
    const first = await loadExportSources(database.pool, member, { since, limit: 1 });
    expect(first.sources.reports.map((r) => r.id)).toEqual([green[0]]);
    // The header is the time of the last item the member got, never that of a hidden one.
    expect(first.nextSince).toBe('2026-12-01T00:04:00.000Z');
    const second = await loadExportSources(database.pool, member, { since: first.nextSince, limit: 1 });
    expect(second.sources.reports.map((r) => r.id)).toEqual([green[1]]);
    expect(second.nextSince).toBeNull();
    // With only hidden reports after it, nothing is there and nowhere to go on from.
    const hiddenOnly = await loadExportSources(database.pool, member, {
      since: '2026-12-01T00:00:30.000Z',
      limit: 1,
    });
    expect(hiddenOnly.sources.reports.map((r) => r.id)).toEqual([green[0]]);
  });

  it('never answers Renkei-Next-Since with the time of an alert the reader may not see', async () => {
    const causedBy = await store('2026-12-03T00:00:00.000Z', 'mlit-csirt', 'RED');
    const redOnly = () =>
      alertRecordFixture({
        tlp: 'RED',
        contributions: [
          contributionFixture({ organisationId: 'mlit-csirt', tlp: 'RED' }),
          contributionFixture({ organisationId: 'mof-csirt', tlp: 'RED' }),
        ],
      });
    await storeVersion(redOnly(), '2026-12-03T01:00:00.000Z', causedBy);
    await storeVersion(redOnly(), '2026-12-03T02:00:00.000Z', causedBy);
    const page = await loadExportSources(database.pool, member, {
      since: '2026-12-03T00:30:00.000Z',
      limit: 1,
    });
    expect(page.sources.alerts).toEqual([]);
    expect(page.nextSince).toBeNull();
    // An analyst sees both, and is told where to go on from.
    const analystPage = await loadExportSources(database.pool, analyst, {
      since: '2026-12-03T00:30:00.000Z',
      limit: 1,
    });
    expect(analystPage.sources.alerts).toHaveLength(1);
    expect(analystPage.nextSince).toBe('2026-12-03T01:00:00.000Z');
  });

  it("dates an alert by the version that last changed the reader's view, so a hidden join moves nothing", async () => {
    const causedBy = await store('2026-12-02T00:00:00.000Z', 'acme-bank');
    const v1 = alertRecordFixture({
      contributions: [
        contributionFixture({ organisationId: 'acme-bank', tlp: 'GREEN' }),
        contributionFixture({ organisationId: 'water-ceptar', sector: 'water', tlp: 'GREEN' }),
      ],
    });
    await storeVersion(v1, '2026-12-02T01:00:00.000Z', causedBy);
    const before = await loadExportSources(database.pool, member, {
      since: '2026-12-02T00:30:00.000Z',
      limit: 10,
    });
    expect(before.sources.alerts.map((a) => [a.record.id, a.addedAt])).toEqual([
      [v1.id, '2026-12-02T01:00:00.000Z'],
    ]);

    // Another organisation's RED report joins: version 2, which the member may not know of.
    const v2: AlertRecord = {
      ...v1,
      version: 2,
      tlp: 'RED',
      organisationCount: 3,
      contributions: [
        ...v1.contributions,
        contributionFixture({
          organisationId: 'mlit-csirt',
          sector: 'central-government',
          tlp: 'RED',
          addedInVersion: 2,
        }),
      ],
      history: [...v1.history, { version: 2, at: '2026-12-02T02:00:00.000Z', change: 'contribution' }],
      updatedAt: '2026-12-02T02:00:00.000Z',
    };
    await storeVersion(v2, '2026-12-02T02:00:00.000Z', causedBy);

    const after = await loadExportSources(database.pool, member, {
      since: '2026-12-02T00:30:00.000Z',
      limit: 10,
    });
    expect(after.sources.alerts.map((a) => [a.record.id, a.addedAt])).toEqual([
      [v1.id, '2026-12-02T01:00:00.000Z'],
    ]);
    // Going on from the member's last time gives nothing new, and no header.
    const since = await loadExportSources(database.pool, member, {
      since: '2026-12-02T01:00:00.000Z',
      limit: 1,
    });
    expect(since.sources.alerts).toEqual([]);
    expect(since.nextSince).toBeNull();
    // In the community collection too (TAXII's date added follows the same time).
    const community = await loadExportSources(
      database.pool,
      member,
      { since: '2026-12-02T00:30:00.000Z', limit: 10 },
      { kind: 'community' },
    );
    expect(community.sources.alerts.map((a) => a.addedAt)).toEqual(['2026-12-02T01:00:00.000Z']);
    // An analyst sees every version: the alert moves to version 2's time.
    const analystView = await loadExportSources(database.pool, analyst, {
      since: '2026-12-02T00:30:00.000Z',
      limit: 10,
    });
    const analystsAlert = analystView.sources.alerts.filter((a) => a.record.id === v1.id);
    expect(analystsAlert.map((a) => [a.record.version, a.addedAt])).toEqual([
      [2, '2026-12-02T02:00:00.000Z'],
    ]);
  });
});
