import { describe, expect, it } from 'vitest';
import { knownReportIds } from '@renkei/policy';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';

/**
 * What an organisation may know of in an alert, at some version: the
 * differential leak test removes everything else from its world B.
 */
describe('knownReportIds', () => {
  const shared = { type: 'domain' as const, value: 'c2.known.example' };
  const elsewhere = { type: 'domain' as const, value: 'other.known.example' };
  const own = contributionFixture({ organisationId: 'viewer', indicators: [shared] });
  const green = contributionFixture({ organisationId: 'b', tlp: 'GREEN', indicators: [shared] });
  const amberCounted = contributionFixture({ organisationId: 'c', tlp: 'AMBER', indicators: [shared] });
  const amberApart = contributionFixture({ organisationId: 'd', tlp: 'AMBER', indicators: [elsewhere] });
  const strict = contributionFixture({ organisationId: 'e', tlp: 'AMBER+STRICT', indicators: [shared] });
  const red = contributionFixture({ organisationId: 'f', tlp: 'RED', indicators: [shared] });
  // GREEN when it joined (version 1), RED from version 2 on: it was known once.
  const tightened = contributionFixture({ organisationId: 'g', tlp: 'RED', indicators: [shared] });
  const record = alertRecordFixture({
    version: 2,
    contributions: [own, green, amberCounted, amberApart, strict, red, tightened],
    history: [
      { version: 1, at: '2026-11-28T00:00:00.000Z', change: 'contribution' },
      {
        version: 2,
        at: '2026-11-28T01:00:00.000Z',
        change: 'tlp',
        reportId: tightened.reportId,
        previousTlp: 'GREEN',
      },
    ],
  });

  it('holds its own, CLEAR and GREEN reports, AMBER ones it counts, and ones it knew before they were tightened', () => {
    expect(knownReportIds('viewer', record)).toEqual(
      new Set([own.reportId, green.reportId, amberCounted.reportId, tightened.reportId]),
    );
  });

  it('holds no AMBER report without an indicator of its own, and no AMBER+STRICT or RED one of others', () => {
    const known = knownReportIds('viewer', record);
    for (const hidden of [amberApart, strict, red]) expect(known.has(hidden.reportId)).toBe(false);
  });

  it('counts no AMBER report for an organisation that reported nothing here', () => {
    expect(knownReportIds('bystander', record)).toEqual(
      new Set([own.reportId, green.reportId, tightened.reportId]),
    );
  });
});
