import { describe, expect, it } from 'vitest';
import {
  SECTORS,
  TLP_LEVELS,
  type Principal,
  type Role,
  type Sector,
  type WarningRecord,
} from '@renkei/schema';
import {
  audienceAdmits,
  audienceCeiling,
  audienceReader,
  namesContributors,
  reportAuthorship,
  reportExportFilter,
  taxiiAudiencesFor,
  warningForExport,
  alertForExport,
  type TaxiiAudience,
} from '@renkei/policy';
import { alertRecordFixture } from '@renkei/testing';

function viewer(roles: Role[], organisationId = 'acme-bank', sector: Sector = 'finance'): Principal {
  return { subject: `${organisationId}-user`, organisationId, sector, roles };
}
const analyst = viewer(['analyst'], 'gsoc', 'central-government');
const member = viewer(['ceptar'], 'finance-ceptar');
const admin = viewer(['admin'], 'gsoc', 'central-government');

const warning = (overrides: Partial<WarningRecord> = {}): WarningRecord => ({
  id: '00000000-0000-4000-8000-000000000001',
  title: 'w',
  body: 'b',
  severity: 'high',
  tlp: 'CLEAR',
  sectors: 'all',
  indicators: [],
  alertIds: [],
  publishedAt: '2026-11-01T00:00:00.000Z',
  exercise: false,
  publishedBy: 'analyst-1',
  ...overrides,
});

describe('reportAuthorship', () => {
  it('gives anonymous readers CLEAR reports only, without their author', () => {
    expect(TLP_LEVELS.map((tlp) => reportAuthorship(null, { organisationId: 'x', tlp }))).toEqual([
      'hidden',
      null,
      null,
      null,
      null,
    ]);
  });

  it('names every author to analysts, and its own to an organisation', () => {
    for (const tlp of TLP_LEVELS) {
      expect(reportAuthorship(analyst, { organisationId: 'x', tlp })).toBe('named');
      expect(reportAuthorship(member, { organisationId: 'finance-ceptar', tlp })).toBe('named');
    }
  });

  it("gives a member others' CLEAR and GREEN reports anonymised, and nothing stricter", () => {
    expect(TLP_LEVELS.map((tlp) => reportAuthorship(member, { organisationId: 'other', tlp }))).toEqual([
      'anonymised',
      'anonymised',
      null,
      null,
      null,
    ]);
  });

  it('lets SQL pre-filter with no more than the rule lets through', () => {
    expect(reportExportFilter(analyst)).toEqual({ all: true });
    expect(reportExportFilter(member)).toEqual({
      all: false,
      organisationId: 'finance-ceptar',
      tlps: ['CLEAR', 'GREEN'],
    });
    expect(reportExportFilter(null)).toEqual({ all: false, organisationId: null, tlps: ['CLEAR'] });
  });
});

describe('alerts and warnings in exports', () => {
  it('gives anonymous readers no alert, and others the view they get everywhere', () => {
    const alert = alertRecordFixture();
    expect(alertForExport(null, alert)).toBeNull();
    expect(alertForExport(analyst, alert)).not.toBeNull();
    expect(namesContributors(analyst)).toBe(true);
    expect(namesContributors(member)).toBe(false);
    expect(namesContributors(null)).toBe(false);
  });

  it('gives anonymous readers only CLEAR warnings for every sector, without who published them', () => {
    expect(warningForExport(null, warning())).not.toHaveProperty('publishedBy');
    expect(warningForExport(null, warning({ tlp: 'GREEN' }))).toBeNull();
    expect(warningForExport(null, warning({ sectors: ['finance'] }))).toBeNull();
    expect(warningForExport(member, warning({ tlp: 'AMBER', sectors: ['finance'] }))).not.toBeNull();
    expect(warningForExport(member, warning({ sectors: ['water'] }))).toBeNull();
  });
});

describe('TAXII audiences', () => {
  it('lists the public collection to anonymous readers only when the operator allows it', () => {
    expect(taxiiAudiencesFor(null, { publicWithoutToken: false })).toEqual([]);
    expect(taxiiAudiencesFor(null, { publicWithoutToken: true })).toEqual([{ kind: 'public' }]);
  });

  it("lists a member's sector and organisation, every sector to analysts, none to administrators", () => {
    expect(taxiiAudiencesFor(member, { publicWithoutToken: false })).toEqual([
      { kind: 'public' },
      { kind: 'community' },
      { kind: 'sector', sector: 'finance' },
      { kind: 'organisation', organisationId: 'finance-ceptar' },
    ]);
    const sectors = taxiiAudiencesFor(analyst, { publicWithoutToken: false }).filter(
      (a) => a.kind === 'sector',
    );
    expect(sectors).toHaveLength(SECTORS.length);
    expect(
      taxiiAudiencesFor(admin, { publicWithoutToken: false }).filter((a) => a.kind === 'sector'),
    ).toEqual([]);
  });

  it('caps each collection at its TLP and admits only its kinds', () => {
    const pub: TaxiiAudience = { kind: 'public' };
    const community: TaxiiAudience = { kind: 'community' };
    const water: TaxiiAudience = { kind: 'sector', sector: 'water' };
    const own: TaxiiAudience = { kind: 'organisation', organisationId: 'finance-ceptar' };
    expect([pub, community, water, own].map(audienceCeiling)).toEqual(['CLEAR', 'GREEN', 'RED', 'RED']);
    const report = (tlp: (typeof TLP_LEVELS)[number], organisationId = 'x') =>
      ({ kind: 'report', tlp, organisationId }) as const;
    expect(TLP_LEVELS.map((tlp) => audienceAdmits(pub, report(tlp)))).toEqual([
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(TLP_LEVELS.map((tlp) => audienceAdmits(community, report(tlp)))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(audienceAdmits(community, { kind: 'alert', tlp: 'AMBER' })).toBe(false);
    expect(audienceAdmits(pub, { kind: 'alert', tlp: 'CLEAR' })).toBe(false);
    expect(audienceAdmits(water, { kind: 'warning', tlp: 'RED', sectors: ['water'] })).toBe(true);
    expect(audienceAdmits(water, { kind: 'warning', tlp: 'GREEN', sectors: ['finance'] })).toBe(false);
    expect(audienceAdmits(water, report('CLEAR'))).toBe(false);
    expect(audienceAdmits(own, report('RED', 'finance-ceptar'))).toBe(true);
    expect(audienceAdmits(own, report('CLEAR', 'other'))).toBe(false);
    expect(audienceReader(pub, member)).toBeNull();
    expect(audienceReader(own, member)).toBe(member);
  });
});
