import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CORRELATION_SETTINGS } from '@renkei/correlation';
import { loadWarningLists } from '@renkei/indicators/load';
import type { ReportEnvelope, ReportSource, Tlp } from '@renkei/schema';
import { createMigratedTestDatabase, reportEnvelopeFixture, type TestDatabase } from '@renkei/testing';
import { processChunk } from '../../src/process-batch.js';
import { processReport, type CorrelationContext } from '../../src/process-report.js';

const SOURCE = randomUUID();
let offset = 0;

function envelope(
  organisationId: string,
  values: string[],
  source?: Omit<ReportSource, 'id'> & { id?: string },
  tlp: Tlp = 'GREEN',
): ReportEnvelope {
  return reportEnvelopeFixture({
    organisationId,
    sector: organisationId === 'bank' ? 'finance' : 'central-government',
    receivedAt: '2026-11-21T00:00:00.000Z',
    report: {
      title: 'versions',
      tlp,
      detectedAt: '2026-11-20T00:00:00.000Z',
      indicators: values.map((value) => ({ type: 'domain' as const, value })),
      ...(source ? { source: { id: SOURCE, ...source } } : {}),
    },
  });
}
const at = () => ({ topic: 'renkei.reports.v1', partition: 0, offset: String(offset++) });
const version = (day: number, part = 1, parts = 1) => ({
  version: `2026-11-${String(day).padStart(2, '0')}T00:00:00.000Z`,
  part,
  parts,
});

/**
 * One report per source object, on both the chunk path and the per-report
 * path: versions of one source keep one live sighting per value, a late
 * earlier version counts for nothing, removed values are withdrawn once every
 * part of the new version is in, and a tightened TLP holds.
 */
describe.each(['chunk', 'report'] as const)('versions of a source (%s path)', (path) => {
  let database: TestDatabase;
  let context: CorrelationContext;
  const store = async (...envelopes: ReportEnvelope[]) => {
    if (path === 'chunk')
      await processChunk(
        database.pool,
        envelopes.map((e) => ({ envelope: e, at: at() })),
        context,
      );
    else for (const e of envelopes) await processReport(database.pool, e, at(), context);
  };
  const live = async (reportId: string) =>
    (
      await database.pool.query<{ value: string }>(
        `SELECT value FROM sightings WHERE report_id = $1 AND suppressed_by IS NULL ORDER BY value`,
        [reportId],
      )
    ).rows.map((row) => row.value);
  const alertsOf = async (value: string) =>
    (
      await database.pool.query<{ version: number; reports: string[] }>(
        `SELECT version, ARRAY(SELECT jsonb_array_elements(record -> 'contributions') ->> 'reportId') AS reports
           FROM alerts WHERE record -> 'indicators' @> $1::jsonb AND record ->> 'kind' = 'shared-indicator'`,
        [JSON.stringify([{ type: 'domain', value }])],
      )
    ).rows;

  beforeAll(async () => {
    database = await createMigratedTestDatabase();
    context = {
      settings: DEFAULT_CORRELATION_SETTINGS,
      warningLists: await loadWarningLists({ extraDir: undefined, disabled: [] }),
    };
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('keeps one live sighting per value, withdraws what a complete version removed, and ignores a late earlier version', async () => {
    const v1 = envelope('agency', ['kept.example', 'removed.example'], version(10));
    await store(v1);
    const bank = envelope('bank', ['kept.example']);
    await store(bank);
    const [alert] = await alertsOf('kept.example');
    expect(alert!.reports.sort()).toEqual([v1.id, bank.id].sort());

    // Version 2 in two parts: the removed value is withdrawn only once both are in.
    const part1 = envelope('agency', ['kept.example'], version(12, 1, 2));
    await store(part1);
    expect(await live(v1.id)).toEqual(['kept.example', 'removed.example']);
    const part2 = envelope('agency', ['added.example'], version(12, 2, 2), 'AMBER');
    await store(part2);
    expect(await live(v1.id)).toEqual(['kept.example']);
    // The kept value stays counted in v1; v2 neither joins nor re-versions its alert.
    expect(await live(part1.id)).toEqual([]);
    expect(await live(part2.id)).toEqual(['added.example']);
    expect(await alertsOf('kept.example')).toEqual([alert]);

    // A late copy of an earlier version counts for nothing.
    const late = envelope('agency', ['removed.example', 'late.example'], version(11));
    await store(late);
    expect(await live(late.id)).toEqual([]);

    // Another member reporting the removed value raises nothing with the agency.
    await store(envelope('bank', ['removed.example', 'late.example']));
    expect(await alertsOf('removed.example')).toEqual([]);
    expect(await alertsOf('late.example')).toEqual([]);
  });

  it('keeps a TLP tightened on an earlier version', async () => {
    const source = { version: '2026-11-10T00:00:00.000Z', part: 1, parts: 1 };
    const first = envelope('water', ['tlp.example'], source);
    first.report.source = { ...source, id: randomUUID() };
    await store(first);
    await database.pool.query(`UPDATE reports SET tlp = 'RED' WHERE id = $1`, [first.id]);
    const second = envelope('water', ['tlp.example'], { ...source, version: '2026-11-11T00:00:00.000Z' });
    second.report.source = { ...second.report.source!, id: first.report.source.id };
    await store(second);
    const { rows } = await database.pool.query<{ tlp: string }>(`SELECT tlp FROM reports WHERE id = $1`, [
      second.id,
    ]);
    expect(rows[0]!.tlp).toBe('RED');
  });
});
