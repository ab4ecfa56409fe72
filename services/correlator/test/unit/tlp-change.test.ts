import { describe, expect, it } from 'vitest';
import { contributionsAt, viewAlert, viewAlertChange } from '@renkei/policy';
import { alertRecordSchema, type Principal, type Role, type Sector } from '@renkei/schema';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';
import { tightenAlert } from '../../src/tlp-change.js';

function viewer(organisationId: string, sector: Sector, roles: Role[] = ['reporter']): Principal {
  return { subject: `${organisationId}-user`, organisationId, sector, roles };
}

const analyst = viewer('gsoc', 'central-government', ['analyst']);
const member = viewer('water-co', 'water');

/** Three GREEN reports of one domain: two finance organisations, then a railway one in version 2. */
function threeGreen() {
  const a = contributionFixture({ organisationId: 'a-bank', sector: 'finance' });
  const b = contributionFixture({ organisationId: 'b-bank', sector: 'finance' });
  const c = contributionFixture({
    organisationId: 'c-rail',
    sector: 'railway',
    addedInVersion: 2,
    receivedAt: '2026-11-28T01:00:00.000Z',
  });
  const record = alertRecordFixture({
    version: 2,
    contributions: [a, b, c],
    sectors: ['finance', 'railway'],
    organisationCount: 3,
    updatedAt: '2026-11-28T01:00:00.000Z',
  });
  return { a, b, c, record };
}

describe('tightening a report in an alert', () => {
  it('writes the next version with the report relabelled and a tlp history entry the policy replays', () => {
    const { c, record } = threeGreen();
    const next = tightenAlert(record, c.reportId, 'AMBER+STRICT', '2026-11-28T02:00:00.000Z')!;

    expect(alertRecordSchema.parse(next)).toEqual(next);
    expect(next.version).toBe(3);
    expect(next.tlp).toBe('AMBER+STRICT');
    expect(next.contributions.map((x) => [x.organisationId, x.tlp])).toEqual([
      ['a-bank', 'GREEN'],
      ['b-bank', 'GREEN'],
      ['c-rail', 'AMBER+STRICT'],
    ]);
    // Only the label moves: when the report joined stays as it was.
    expect(next.contributions[2]!.addedInVersion).toBe(2);
    expect(next.history.at(-1)).toEqual({
      version: 3,
      at: '2026-11-28T02:00:00.000Z',
      change: 'tlp',
      reportId: c.reportId,
      previousTlp: 'GREEN',
    });
    expect(next.updatedAt).toBe('2026-11-28T02:00:00.000Z');
    // Earlier versions replay with the label they had; the record itself is untouched.
    expect(contributionsAt(next, 2).find((x) => x.reportId === c.reportId)!.tlp).toBe('GREEN');
    expect(contributionsAt(next, 3).find((x) => x.reportId === c.reportId)!.tlp).toBe('AMBER+STRICT');
    expect(record.version).toBe(2);
    expect(record.contributions[2]!.tlp).toBe('GREEN');
  });

  it("takes a member's knowledge of the report away in the new version, and tells it so", () => {
    const { c, record } = threeGreen();
    const before = viewAlert(member, record)!;
    expect(before.organisationCount).toBe(3);
    expect(before.sectors).toEqual(['finance', 'railway']);

    const next = tightenAlert(record, c.reportId, 'RED', '2026-11-28T02:00:00.000Z')!;
    const frame = viewAlertChange(member, next);
    expect(frame).not.toBeNull();
    expect(frame!.organisationCount).toBe(2);
    expect(frame!.sectors).toEqual(['finance']);
    expect(frame!.tlp).toBe('GREEN');
    expect(frame!.version).toBe(before.version + 1);
    expect(JSON.stringify(frame)).not.toContain('railway');
    expect(viewAlert(member, next)).toEqual(frame);
  });

  it('leaves the reporting organisation and analysts seeing the report', () => {
    const { c, record } = threeGreen();
    const next = tightenAlert(record, c.reportId, 'RED', '2026-11-28T02:00:00.000Z')!;
    expect(viewAlert(viewer('c-rail', 'railway'), next)!.reportIds).toEqual([c.reportId]);
    const analystView = viewAlert(analyst, next)!;
    expect(analystView.contributions!.find((x) => x.reportId === c.reportId)!.tlp).toBe('RED');
    expect(analystView.tlp).toBe('RED');
  });

  it('hides the alert from a member when what remains would not raise it', () => {
    const a = contributionFixture({ organisationId: 'a-bank' });
    const b = contributionFixture({ organisationId: 'b-bank' });
    const record = alertRecordFixture({ contributions: [a, b] });
    expect(viewAlert(member, record)).not.toBeNull();
    const next = tightenAlert(record, b.reportId, 'AMBER+STRICT', '2026-11-28T02:00:00.000Z')!;
    expect(viewAlert(member, next)).toBeNull();
    expect(viewAlertChange(member, next)).toBeNull();
  });

  it('lets an AMBER report still count, and only count, for an organisation that reported the indicator too', () => {
    const { a, c, record } = threeGreen();
    const next = tightenAlert(record, c.reportId, 'AMBER', '2026-11-28T02:00:00.000Z')!;
    const aView = viewAlert(viewer('a-bank', 'finance'), next)!;
    expect(aView.organisationCount).toBe(3);
    expect(aView.sectors).toEqual(['finance']);
    expect(aView.reportIds).toEqual([a.reportId]);
    expect(viewAlert(member, next)!.organisationCount).toBe(2);
  });

  it('changes nothing for a report it does not hold, or to a label that is not tighter', () => {
    const { c, record } = threeGreen();
    const at = '2026-11-28T02:00:00.000Z';
    expect(tightenAlert(record, '00000000-0000-4000-8000-000000000000', 'RED', at)).toBeNull();
    expect(tightenAlert(record, c.reportId, 'GREEN', at)).toBeNull();
    expect(tightenAlert(record, c.reportId, 'CLEAR', at)).toBeNull();
    const amberStrict = tightenAlert(record, c.reportId, 'AMBER+STRICT', at)!;
    expect(tightenAlert(amberStrict, c.reportId, 'AMBER', at)).toBeNull();
    expect(tightenAlert(amberStrict, c.reportId, 'AMBER+STRICT', at)).toBeNull();
    const red = tightenAlert(amberStrict, c.reportId, 'RED', '2026-11-28T03:00:00.000Z')!;
    expect(red.version).toBe(4);
    expect(red.history.filter((entry) => entry.change === 'tlp').map((entry) => entry.previousTlp)).toEqual([
      'GREEN',
      'AMBER+STRICT',
    ]);
    expect(contributionsAt(red, 3).find((x) => x.reportId === c.reportId)!.tlp).toBe('AMBER+STRICT');
  });

  it('never moves updatedAt back for a change timed before the newest report', () => {
    const { c, record } = threeGreen();
    const next = tightenAlert(record, c.reportId, 'RED', '2026-11-28T00:30:00.000Z')!;
    expect(next.updatedAt).toBe(record.updatedAt);
    expect(next.history.at(-1)!.at).toBe('2026-11-28T00:30:00.000Z');
  });
});
