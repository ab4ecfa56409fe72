import { describe, expect, it } from 'vitest';
import { TLP_LEVELS, type Principal, type Role, type Sector } from '@renkei/schema';
import { alertCarrying, reportInSearch, searchesAlertTitles, searchScope } from '@renkei/policy';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';

function viewer(roles: Role[], organisationId: string, sector: Sector = 'finance'): Principal {
  return { subject: `${organisationId}-user`, organisationId, sector, roles };
}
const analyst = viewer(['analyst'], 'gsoc', 'central-government');
const member = viewer(['reporter'], 'a-csirt');

describe('reportInSearch', () => {
  it('names every report to analysts, whatever its TLP', () => {
    for (const tlp of TLP_LEVELS) {
      expect(reportInSearch(analyst, { organisationId: 'b-csirt', tlp }, { viewerReportedIt: false })).toBe(
        'named',
      );
    }
  });

  it("names a member's own reports at every TLP", () => {
    for (const tlp of TLP_LEVELS) {
      expect(reportInSearch(member, { organisationId: 'a-csirt', tlp }, { viewerReportedIt: true })).toBe(
        'named',
      );
    }
  });

  it("anonymises others' CLEAR and GREEN, counts their AMBER only for an indicator the member reported, and hides the rest", () => {
    const of = (tlp: (typeof TLP_LEVELS)[number], viewerReportedIt: boolean) =>
      reportInSearch(member, { organisationId: 'b-csirt', tlp }, { viewerReportedIt });
    expect([false, true].map((reported) => TLP_LEVELS.map((tlp) => of(tlp, reported)))).toEqual([
      ['anonymised', 'anonymised', null, null, null],
      ['anonymised', 'anonymised', 'counted', null, null],
    ]);
    expect(TLP_LEVELS).toEqual(['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED']);
  });
});

describe('searchScope', () => {
  it('is what reportInSearch decides, in the terms SQL filters with', () => {
    expect(searchScope(analyst)).toEqual({ organisationId: null, readable: [], counted: [] });
    const scope = searchScope(member);
    expect(scope.organisationId).toBe('a-csirt');
    for (const tlp of TLP_LEVELS) {
      const presence = reportInSearch(member, { organisationId: 'b-csirt', tlp }, { viewerReportedIt: true });
      expect(scope.readable.includes(tlp)).toBe(presence === 'anonymised');
      expect(scope.counted.includes(tlp)).toBe(presence === 'counted');
    }
  });
});

describe('alerts in a search', () => {
  it('match titles for analysts only', () => {
    expect(searchesAlertTitles(analyst)).toBe(true);
    expect(searchesAlertTitles(member)).toBe(false);
  });

  it("finds an alert by indicator only when the viewer's view lists it", () => {
    const evil = { type: 'domain' as const, value: 'evil.example' };
    const visible = alertRecordFixture();
    expect(alertCarrying(member, visible, evil)?.id).toBe(visible.id);
    expect(alertCarrying(member, visible, { type: 'domain', value: 'other.example' })).toBeNull();

    // Two RED reports of others: the member may know nothing of the alert.
    const hidden = alertRecordFixture({
      tlp: 'RED',
      contributions: [
        contributionFixture({ organisationId: 'b-csirt', tlp: 'RED' }),
        contributionFixture({ organisationId: 'c-csirt', tlp: 'RED' }),
      ],
    });
    expect(alertCarrying(member, hidden, evil)).toBeNull();
    expect(alertCarrying(analyst, hidden, evil)?.id).toBe(hidden.id);
  });
});
