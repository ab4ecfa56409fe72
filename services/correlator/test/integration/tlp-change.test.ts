import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CORRELATION_SETTINGS } from '@renkei/correlation';
import { withTransaction } from '@renkei/db';
import {
  alertRecordSchema,
  TLP_CHANGE_SCHEMA,
  type AlertRecord,
  type ReportEnvelope,
  type Sector,
  type Tlp,
  type TlpChangeMessage,
} from '@renkei/schema';
import { createMigratedTestDatabase, reportEnvelopeFixture, type TestDatabase } from '@renkei/testing';
import { processReport, type CorrelationContext } from '../../src/process-report.js';
import { applyTlpChange } from '../../src/tlp-change.js';
import { loadWarningLists } from '@renkei/indicators/load';

/** applyTlpChange in the correlator's transaction against a real database, without Kafka. */
describe('applyTlpChange', () => {
  let database: TestDatabase;
  let context: CorrelationContext;
  let offset = 0;

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
    domains: string[],
    tlp: Tlp = 'GREEN',
  ): ReportEnvelope {
    offset += 1;
    return reportEnvelopeFixture({
      organisationId,
      sector,
      receivedAt: new Date(Date.UTC(2026, 10, 28, 0, 0, offset)).toISOString(),
      report: {
        tlp,
        // Hours apart: never a sector surge.
        detectedAt: new Date(Date.UTC(2026, 10, 28) + offset * 7_200_000).toISOString(),
        indicators: domains.map((value) => ({ type: 'domain' as const, value })),
      },
    });
  }
  const at = () => ({ topic: 'renkei.reports.v1', partition: 0, offset: String(offset) });
  const store = async (report: ReportEnvelope) => {
    const outcome = await processReport(database.pool, report, at(), context);
    expect(outcome.stored).toBe(true);
    return outcome.stored ? outcome.alerts : [];
  };
  const change = (reportId: string, tlp: Tlp): TlpChangeMessage => ({
    schema: TLP_CHANGE_SCHEMA,
    reportId,
    tlp,
    organisationId: 'b-ceptar',
    changedBy: 'b-ceptar-user',
    receivedAt: new Date(Date.UTC(2026, 10, 29)).toISOString(),
  });
  const apply = (message: TlpChangeMessage) =>
    withTransaction(database.pool, (db) => applyTlpChange(db, message));
  const latest = async (alertId: string) =>
    alertRecordSchema.parse(
      (
        await database.pool.query<{ record: AlertRecord }>('SELECT record FROM alerts WHERE id = $1', [
          alertId,
        ])
      ).rows[0]!.record,
    );
  const outboxed = async (alertId: string) =>
    (
      await database.pool.query<{ version: number }>(
        `SELECT alert_version AS version FROM feed_outbox WHERE alert_id = $1
         UNION ALL SELECT alert_version FROM feed_events WHERE alert_id = $1
         ORDER BY 1`,
        [alertId],
      )
    ).rows.map((row) => row.version);

  it('rewrites every alert holding the report, with a tlp history entry, and queues each version for the feed', async () => {
    const [one, two] = [`one-${randomUUID()}.example`, `two-${randomUUID()}.example`];
    await store(envelope('a-csirt', 'central-government', [one, two]));
    const b = envelope('b-ceptar', 'finance', [one, two]);
    const raised = await store(b);
    // A shared-indicator alert for each domain and a campaign of the two.
    expect(raised.map((alert) => alert.kind).sort()).toEqual([
      'campaign',
      'shared-indicator',
      'shared-indicator',
    ]);

    const outcome = await apply(change(b.id, 'AMBER+STRICT'));
    expect(outcome.applied).toBe(true);
    const rewritten = outcome.applied ? outcome.alerts : [];
    expect(rewritten.map((alert) => alert.id).sort()).toEqual(raised.map((alert) => alert.id).sort());
    for (const before of raised) {
      const after = await latest(before.id);
      expect(after.version).toBe(before.version + 1);
      expect(after.tlp).toBe('AMBER+STRICT');
      expect(after.contributions.find((c) => c.reportId === b.id)!.tlp).toBe('AMBER+STRICT');
      expect(after.history.at(-1)).toEqual({
        version: before.version + 1,
        at: '2026-11-29T00:00:00.000Z',
        change: 'tlp',
        reportId: b.id,
        previousTlp: 'GREEN',
      });
      // Everything but the label and the bookkeeping is as it was.
      const { version: _v, tlp: _t, contributions: _c, history: _h, updatedAt: _u, ...rest } = after;
      const {
        version: _v2,
        tlp: _t2,
        contributions: _c2,
        history: _h2,
        updatedAt: _u2,
        ...restBefore
      } = before;
      expect(rest).toEqual(restBefore);
      expect(await outboxed(before.id)).toEqual([before.version, before.version + 1]);
    }
    const stored = await database.pool.query<{ tlp: Tlp; versions: number }>(
      `SELECT r.tlp, (SELECT count(*)::int FROM alert_versions v WHERE v.caused_by_report_id = r.id) AS versions
         FROM reports r WHERE r.id = $1`,
      [b.id],
    );
    expect(stored.rows[0]).toEqual({ tlp: 'AMBER+STRICT', versions: 6 });
  });

  it('changes nothing on a redelivery, or for a change that does not tighten the report as it stands', async () => {
    const domain = `again-${randomUUID()}.example`;
    await store(envelope('a-csirt', 'central-government', [domain]));
    const b = envelope('b-ceptar', 'finance', [domain]);
    const [alert] = await store(b);

    expect((await apply(change(b.id, 'RED'))).applied).toBe(true);
    expect(await apply(change(b.id, 'RED'))).toEqual({ applied: false, reason: 'not-tighter', tlp: 'RED' });
    // AMBER+STRICT arriving after RED (two requests raced at ingest): the tighter one stands.
    expect(await apply(change(b.id, 'AMBER+STRICT'))).toEqual({
      applied: false,
      reason: 'not-tighter',
      tlp: 'RED',
    });
    expect((await latest(alert!.id)).version).toBe(alert!.version + 1);
    expect(await outboxed(alert!.id)).toEqual([1, 2]);
  });

  it('lets a later report join with the tightened label kept, and earlier versions replayable', async () => {
    const domain = `later-${randomUUID()}.example`;
    await store(envelope('a-csirt', 'central-government', [domain]));
    const b = envelope('b-ceptar', 'finance', [domain]);
    await store(b);
    await apply(change(b.id, 'AMBER'));
    const [grown] = await store(envelope('c-ceptar', 'railway', [domain]));
    expect(grown!.version).toBe(3);
    expect(grown!.contributions.map((c) => c.tlp)).toEqual(['GREEN', 'AMBER', 'GREEN']);
    expect(grown!.history.map((entry) => entry.change)).toEqual(['contribution', 'tlp', 'contribution']);
  });

  it('refuses a change for a report that is not stored (it goes to the dead-letter topic)', async () => {
    await expect(apply(change(randomUUID(), 'RED'))).rejects.toThrow(/is not stored/);
  });

  it('never loses a change or a contribution when a report joins the alert at the same time', async () => {
    for (let round = 0; round < 8; round += 1) {
      const domain = `race-${round}-${randomUUID()}.example`;
      await store(envelope('a-csirt', 'central-government', [domain]));
      const b = envelope('b-ceptar', 'finance', [domain]);
      const [alert] = await store(b);
      const c = envelope('c-ceptar', 'railway', [domain]);
      const [applied] = await Promise.all([
        apply(change(b.id, 'RED')),
        processReport(database.pool, c, at(), context),
      ]);
      expect(applied.applied).toBe(true);
      const final = await latest(alert!.id);
      expect(final.version).toBe(3);
      expect(final.contributions.map((x) => [x.organisationId, x.tlp])).toEqual([
        ['a-csirt', 'GREEN'],
        ['b-ceptar', 'RED'],
        ['c-ceptar', 'GREEN'],
      ]);
      expect(await outboxed(alert!.id)).toEqual([1, 2, 3]);
    }
  });

  it('never gives an alert born at the same time the label the report had before', async () => {
    for (let round = 0; round < 8; round += 1) {
      const [x, y] = [`born-x-${round}-${randomUUID()}.example`, `born-y-${round}-${randomUUID()}.example`];
      await store(envelope('a-csirt', 'central-government', [x]));
      const b = envelope('b-ceptar', 'finance', [x, y]);
      await store(b);
      // C shares both with B: a campaign (and y's alert) that did not exist, built from B's stored facts.
      const c = envelope('c-ceptar', 'railway', [x, y]);
      await Promise.all([apply(change(b.id, 'RED')), processReport(database.pool, c, at(), context)]);
      const holding = await database.pool.query<{ record: AlertRecord }>(
        `SELECT record FROM alerts WHERE alert_report_ids(record) @> ARRAY[$1::uuid]`,
        [b.id],
      );
      expect(holding.rows.map((row) => row.record.kind).sort()).toEqual([
        'campaign',
        'shared-indicator',
        'shared-indicator',
      ]);
      for (const { record } of holding.rows) {
        expect([record.kind, record.contributions.find((x) => x.reportId === b.id)!.tlp]).toEqual([
          record.kind,
          'RED',
        ]);
      }
    }
  });
});
