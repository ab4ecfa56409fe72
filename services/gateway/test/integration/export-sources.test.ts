import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedTestDatabase, type TestDatabase } from '@renkei/testing';
import { listReportSources } from '../../src/queries/exports.js';

/**
 * Exports and TAXII go on from the last time a reader saw. A chunk of
 * reports stored in one transaction shares its time, so a page that ended
 * inside that millisecond would leave the rest of it unread for ever.
 */
describe('export sources, read page after page', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function store(processedAt: string): Promise<string> {
    const id = randomUUID();
    await database.pool.query(
      `INSERT INTO reports (id, organisation_id, sector, submitted_by, title, category, severity, tlp, detected_at,
                            received_at, exercise, content_sha256, kafka_topic, kafka_partition, kafka_offset, processed_at)
       VALUES ($1, 'mlit-csirt', 'central-government', 'tester', 'r', 'phishing', 'high', 'GREEN', $2, $2, false, $3,
               'test', 0, 0, $2)`,
      [id, processedAt, '0'.repeat(64)],
    );
    return id;
  }

  it('never ends a page inside a millisecond, so going on from its last time skips nothing', async () => {
    const first = await store('2026-11-30T01:00:00.000Z');
    // Five in one millisecond (microseconds apart, as one transaction's rows may be).
    const chunk = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => store(`2026-11-30T01:00:00.001${String(n).padStart(3, '0')}Z`)),
    );
    const after = await store('2026-11-30T01:00:00.002Z');
    const filter = { organisationId: null, tlps: null, limit: 2 };

    const pages = [];
    let since: string | null = null;
    for (let n = 0; n < 10; n += 1) {
      const page = await listReportSources(database.pool, { ...filter, since });
      pages.push(page.items.map((item) => item.id));
      if (!page.more) break;
      since = page.items.at(-1)!.addedAt;
    }
    // The limit is 2, but the first page ends inside the chunk's millisecond: it takes all of it.
    expect(pages[0]).toHaveLength(6);
    expect(pages[0]![0]).toBe(first);
    expect(pages[1]).toEqual([after]);
    expect(pages.flat().sort()).toEqual([first, ...chunk, after].sort());
    expect(new Set(pages.flat()).size).toBe(7);
  });
});
