import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '@renkei/db';
import { readFeed, sequenceOutbox } from '@renkei/feed';
import type { ReportEnvelope, Sector } from '@renkei/schema';
import { createMigratedTestDatabase, reportEnvelopeFixture, type TestDatabase } from '@renkei/testing';
import { DEFAULT_CORRELATION_SETTINGS } from '@renkei/correlation';
import { loadWarningLists } from '@renkei/indicators/load';
import { processReport, type CorrelationContext } from '../../src/process-report.js';

/** The correlator's transaction against a real database, without Kafka. */
describe('processReport', () => {
  let database: TestDatabase;
  let offset = 0;

  let context: CorrelationContext;

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

  function envelope(
    organisationId: string,
    sector: Sector,
    value: string,
    { exercise = false }: { exercise?: boolean } = {},
  ): ReportEnvelope {
    return reportEnvelopeFixture({
      organisationId,
      sector,
      receivedAt: new Date(Date.UTC(2026, 10, 28, 0, 0, offset)).toISOString(),
      report: {
        // Hours apart, so the reports of this file never make a sector surge.
        detectedAt: new Date(Date.UTC(2026, 10, 28) + offset * 7_200_000).toISOString(),
        indicators: [{ type: 'domain', value }],
        exercise,
      },
    });
  }

  const at = () => ({ topic: 'renkei.reports.v1', partition: 0, offset: String((offset += 1)) });

  const count = async (sql: string, params: unknown[]) =>
    (await database.pool.query<{ n: number }>(sql, params)).rows[0]!.n;

  it('stores a report once, however often it is delivered', async () => {
    const report = envelope('a-csirt', 'central-government', `once-${randomUUID()}.example`);
    const first = await processReport(database.pool, report, at(), context);
    const again = await processReport(database.pool, report, at(), context);
    expect(first).toEqual({ stored: true, alerts: [] });
    expect(again).toEqual({ stored: false });
    expect(await count('SELECT count(*)::int AS n FROM reports WHERE id = $1', [report.id])).toBe(1);
    expect(
      await count('SELECT count(*)::int AS n FROM report_indicators WHERE report_id = $1', [report.id]),
    ).toBe(1);
  });

  it('raises an alert when a second organisation reports the indicator, and queues it for the feed', async () => {
    const domain = `shared-${randomUUID()}.example`;
    await processReport(database.pool, envelope('a-csirt', 'central-government', domain), at(), context);
    const before = (
      await database.pool.query<{ head: string }>('SELECT position::text AS head FROM feed_head')
    ).rows[0]!.head;
    const second = await processReport(
      database.pool,
      envelope('b-ceptar', 'finance', domain.toUpperCase()),
      at(),
      context,
    );
    expect(second.stored).toBe(true);
    const alerts = second.stored ? second.alerts : [];
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      version: 1,
      organisationCount: 2,
      sectors: ['central-government', 'finance'],
    });

    expect(
      await count('SELECT count(*)::int AS n FROM feed_outbox WHERE alert_id = $1', [alerts[0]!.id]),
    ).toBe(1);
    await withTransaction(database.pool, (db) => sequenceOutbox(db, 100));
    const events = await readFeed(database.pool, before, 100);
    expect(
      events.map((event) => (event.kind === 'alert' ? [event.payload.id, event.payload.version] : [])),
    ).toEqual([[alerts[0]!.id, 1]]);
  });

  it('never correlates an exercise report with a real one', async () => {
    const domain = `drill-${randomUUID()}.example`;
    await processReport(database.pool, envelope('a-csirt', 'central-government', domain), at(), context);
    const drill = await processReport(
      database.pool,
      envelope('b-ceptar', 'finance', domain, { exercise: true }),
      at(),
      context,
    );
    expect(drill).toEqual({ stored: true, alerts: [] });
  });

  it('leaves nothing behind when the transaction fails', async () => {
    const domain = `broken-${randomUUID()}.example`;
    await processReport(database.pool, envelope('a-csirt', 'central-government', domain), at(), context);
    const report = envelope('b-ceptar', 'finance', domain);
    // A constraint made for this test refuses the alert version, failing the transaction after the report was written.
    await database.pool.query(
      `ALTER TABLE alert_versions ADD CONSTRAINT test_refuse CHECK (record->>'title' NOT LIKE '%broken-%')`,
    );
    try {
      await expect(processReport(database.pool, report, at(), context)).rejects.toThrow();
    } finally {
      await database.pool.query('ALTER TABLE alert_versions DROP CONSTRAINT test_refuse');
    }
    expect(await count('SELECT count(*)::int AS n FROM reports WHERE id = $1', [report.id])).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM feed_outbox WHERE report_id = $1`, [report.id])).toBe(
      0,
    );
    // Delivered again, it goes through.
    const retried = await processReport(database.pool, report, at(), context);
    expect(retried.stored && retried.alerts).toHaveLength(1);
  });
});
