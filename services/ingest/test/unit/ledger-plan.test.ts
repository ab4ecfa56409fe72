import { describe, expect, it } from 'vitest';
import { REPORT_ENVELOPE_SCHEMA, type ReportEnvelope } from '@renkei/schema';
import { planLedgerCatchUp, type LedgerRow, type TopicReport } from '../../src/ledger-plan.js';
import { UnledgeredReports } from '../../src/unledgered.js';

const ID = '00000000-0000-4000-8000-000000000001';
const OTHER_ID = '00000000-0000-4000-8000-000000000002';

let offset = 0;
const message = (
  body: string,
  { id = ID, organisationId = 'mlit-csirt' }: { id?: string; organisationId?: string } = {},
): TopicReport => {
  const envelope: ReportEnvelope = {
    schema: REPORT_ENVELOPE_SCHEMA,
    id,
    organisationId,
    sector: 'central-government',
    submittedBy: `${organisationId}-tester`,
    receivedAt: '2026-12-07T00:00:00.000Z',
    contentSha256: body.repeat(64).slice(0, 64),
    report: {
      id,
      title: body,
      category: 'phishing',
      severity: 'high',
      tlp: 'GREEN',
      detectedAt: '2026-12-06T00:00:00.000Z',
      exercise: false,
      indicators: [],
    } as unknown as ReportEnvelope['report'],
  };
  offset += 1;
  return { envelope, partition: 0, offset: String(offset) };
};

const row = (body: string, state: LedgerRow['state'], confirmed: boolean, organisationId = 'mlit-csirt') => ({
  id: ID,
  organisationId,
  contentSha256: body.repeat(64).slice(0, 64),
  state,
  confirmed,
});

const rows = (...list: LedgerRow[]) => new Map(list.map((r) => [r.id, r]));

describe('planLedgerCatchUp', () => {
  it('writes a row, accepted and audited, for a report the ledger never saw (accepted during an outage)', () => {
    const a = message('a');
    expect(planLedgerCatchUp(new Map(), [a])).toEqual({
      inserts: [a.envelope],
      updates: [],
      submitted: [a.envelope],
      conflicts: [],
    });
  });

  it('accepts and audits a pending row whose body is on the topic (its update failed after the ack)', () => {
    const a = message('a');
    expect(planLedgerCatchUp(rows(row('a', 'pending', false)), [a])).toEqual({
      inserts: [],
      updates: [{ id: ID }],
      submitted: [a.envelope],
      conflicts: [],
    });
  });

  it('only confirms an accepted row: the request path audited it already', () => {
    expect(planLedgerCatchUp(rows(row('a', 'accepted', false)), [message('a')])).toEqual({
      inserts: [],
      updates: [{ id: ID }],
      submitted: [],
      conflicts: [],
    });
  });

  it('changes nothing for a row confirmed and accepted: a redelivery or a resent retry', () => {
    expect(planLedgerCatchUp(rows(row('a', 'accepted', true)), [message('a'), message('a')])).toEqual({
      inserts: [],
      updates: [],
      submitted: [],
      conflicts: [],
    });
  });

  it('reports a different body after the confirmed one as a conflict, keeping the first', () => {
    const b = message('b');
    expect(planLedgerCatchUp(rows(row('a', 'accepted', true)), [b])).toEqual({
      inserts: [],
      updates: [],
      submitted: [],
      conflicts: [{ report: b, kept: { organisationId: 'mlit-csirt', contentSha256: 'a'.repeat(64) } }],
    });
  });

  it('reports the same body from another organisation as a conflict', () => {
    const fromFinance = message('a', { organisationId: 'finance-ceptar' });
    const plan = planLedgerCatchUp(rows(row('a', 'accepted', true)), [fromFinance]);
    expect(plan.conflicts).toEqual([
      { report: fromFinance, kept: { organisationId: 'mlit-csirt', contentSha256: 'a'.repeat(64) } },
    ]);
    expect(plan.updates).toEqual([]);
  });

  it('lets the first body on the topic replace a pending row that never reached Kafka', () => {
    const b = message('b');
    expect(planLedgerCatchUp(rows(row('a', 'pending', false)), [b])).toEqual({
      inserts: [],
      updates: [{ id: ID, envelope: b.envelope }],
      submitted: [b.envelope],
      conflicts: [],
    });
  });

  it('lets an earlier body replace an accepted row not yet confirmed, and reports the row’s own as the conflict', () => {
    // Accepted while PostgreSQL was away (b), then another body (a) accepted
    // through the ledger before the catch-up reached b: b is first on the
    // topic, so b is what the correlator stored.
    const b = message('b');
    const a = message('a');
    const plan = planLedgerCatchUp(rows(row('a', 'accepted', false)), [b, a]);
    expect(plan.updates).toEqual([{ id: ID, envelope: b.envelope }]);
    expect(plan.submitted).toEqual([]);
    expect(plan.conflicts).toEqual([
      { report: a, kept: { organisationId: 'mlit-csirt', contentSha256: 'b'.repeat(64) } },
    ]);
  });

  it('takes the first of several messages for a new id, in topic order', () => {
    const a = message('a');
    const again = message('a');
    const b = message('b');
    const other = message('c', { id: OTHER_ID });
    const plan = planLedgerCatchUp(new Map(), [a, again, other, b]);
    expect(plan.inserts).toEqual([a.envelope, other.envelope]);
    expect(plan.submitted).toEqual([a.envelope, other.envelope]);
    expect(plan.updates).toEqual([]);
    expect(plan.conflicts).toEqual([
      { report: b, kept: { organisationId: 'mlit-csirt', contentSha256: 'a'.repeat(64) } },
    ]);
  });

  it('audits each id at most once, whatever the batch holds', () => {
    const batch = [message('a'), message('b'), message('a'), message('c', { id: OTHER_ID })];
    for (const start of [
      new Map<string, LedgerRow>(),
      rows(row('a', 'pending', false)),
      rows(row('b', 'pending', false)),
      rows(row('a', 'accepted', true)),
    ]) {
      const ids = planLedgerCatchUp(start, batch).submitted.map((envelope) => envelope.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });
});

describe('UnledgeredReports', () => {
  const envelope = (n: number) =>
    message('a', { id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}` }).envelope;

  it('remembers a report until the ledger holds it', () => {
    const memory = new UnledgeredReports();
    memory.remember(envelope(1));
    expect(memory.get(envelope(1).id)).toEqual({
      organisationId: 'mlit-csirt',
      contentSha256: 'a'.repeat(64),
    });
    memory.forget([envelope(1).id]);
    expect(memory.get(envelope(1).id)).toBeUndefined();
  });

  it('forgets the oldest past its limit', () => {
    const memory = new UnledgeredReports(3);
    for (let n = 1; n <= 5; n += 1) memory.remember(envelope(n));
    expect(memory.size).toBe(3);
    expect(memory.get(envelope(1).id)).toBeUndefined();
    expect(memory.get(envelope(2).id)).toBeUndefined();
    expect(memory.get(envelope(5).id)).toBeDefined();
  });
});
