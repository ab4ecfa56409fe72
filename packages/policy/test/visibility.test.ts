import { describe, expect, it } from 'vitest';
import {
  ROLES,
  TLP_LEVELS,
  alertViewSchema,
  type AlertRecord,
  type Principal,
  type Role,
  type Tlp,
} from '@renkei/schema';
import {
  REPORTING_ROLES,
  TLP_SHARED_WITH_EVERYONE,
  canReadReport,
  canSeeAlert,
  isAnalyst,
  viewAlert,
} from '@renkei/policy';

function principal(roles: Role[], organisationId = 'acme-bank'): Principal {
  return { subject: `${organisationId}-user`, organisationId, sector: 'finance', roles };
}

const reporter = principal(['reporter']);
const ceptar = principal(['ceptar']);
const admin = principal(['admin']);
const analyst = principal(['analyst'], 'gsoc');
const nonAnalysts: [string, Principal][] = [
  ['reporter', reporter],
  ['ceptar', ceptar],
  ['admin', admin],
  ['reporter+admin', principal(['reporter', 'admin'])],
];

function reportId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function alert(tlp: Tlp = 'GREEN'): AlertRecord {
  return {
    schema: 'renkei.alert.v1',
    id: '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    version: 3,
    kind: 'shared-indicator',
    severity: 'high',
    tlp,
    title: 'domain evil.example reported by 3 organisations in 2 sectors',
    indicators: [{ type: 'domain', value: 'evil.example' }],
    sectors: ['finance', 'railway'],
    organisationCount: 3,
    contributions: [
      {
        reportId: reportId(1),
        organisationId: 'acme-bank',
        sector: 'finance',
        tlp: 'GREEN',
        severity: 'low',
        receivedAt: '2024-04-12T01:00:00.000Z',
      },
      {
        reportId: reportId(2),
        organisationId: 'beta-bank',
        sector: 'finance',
        tlp: tlp,
        severity: 'high',
        receivedAt: '2024-04-12T02:00:00.000Z',
      },
      {
        reportId: reportId(3),
        organisationId: 'north-rail',
        sector: 'railway',
        tlp: 'CLEAR',
        severity: 'medium',
        receivedAt: '2024-04-12T03:00:00.000Z',
      },
      {
        reportId: reportId(4),
        organisationId: 'acme-bank',
        sector: 'finance',
        tlp: 'CLEAR',
        severity: 'low',
        receivedAt: '2024-04-12T04:00:00.000Z',
      },
    ],
    createdAt: '2024-04-12T02:00:00.000Z',
    updatedAt: '2024-04-12T04:00:00.000Z',
    exercise: false,
  };
}

describe('roles', () => {
  it('lets reporters, CEPTARs and analysts report, but not administrators', () => {
    expect([...REPORTING_ROLES].sort()).toEqual(['analyst', 'ceptar', 'reporter']);
    expect(REPORTING_ROLES).not.toContain('admin');
    for (const role of REPORTING_ROLES) expect(ROLES).toContain(role);
  });

  it('recognises analysts by role, whatever else they hold', () => {
    expect(isAnalyst(analyst)).toBe(true);
    expect(isAnalyst(principal(['reporter', 'analyst']))).toBe(true);
    for (const [, p] of nonAnalysts) expect(isAnalyst(p)).toBe(false);
  });

  it('shares only CLEAR and GREEN with everyone', () => {
    expect([...TLP_SHARED_WITH_EVERYONE]).toEqual(['CLEAR', 'GREEN']);
  });
});

describe('canReadReport', () => {
  it('lets an analyst read any organisation’s report', () => {
    for (const organisationId of ['acme-bank', 'beta-bank', 'gsoc']) {
      expect(canReadReport(analyst, { organisationId })).toBe(true);
    }
  });

  it.each(nonAnalysts)('lets a %s read only their own organisation’s reports', (_label, p) => {
    expect(canReadReport(p, { organisationId: 'acme-bank' })).toBe(true);
    expect(canReadReport(p, { organisationId: 'beta-bank' })).toBe(false);
    expect(canReadReport(p, { organisationId: 'acme-bank-2' })).toBe(false);
  });
});

describe('canSeeAlert', () => {
  it.each(TLP_LEVELS.map((t) => [t]))('lets an analyst see a %s alert', (tlp) => {
    expect(canSeeAlert(analyst, { tlp })).toBe(true);
  });

  const expectations: [Tlp, boolean][] = [
    ['CLEAR', true],
    ['GREEN', true],
    ['AMBER', false],
    ['AMBER+STRICT', false],
    ['RED', false],
  ];
  it.each(
    nonAnalysts.flatMap(([label, p]) =>
      expectations.map(([tlp, visible]) => [label, p, tlp, visible] as const),
    ),
  )('%s sees a %s alert: %s', (_label, p, tlp, visible) => {
    expect(canSeeAlert(p, { tlp })).toBe(visible);
  });
});

describe('viewAlert', () => {
  it.each(['AMBER', 'AMBER+STRICT', 'RED'] as Tlp[])(
    'returns null for a non-analyst and a %s alert',
    (tlp) => {
      for (const [, p] of nonAnalysts) expect(viewAlert(p, alert(tlp))).toBeNull();
    },
  );

  it.each(TLP_LEVELS.map((t) => [t]))('gives an analyst every report of a %s alert', (tlp) => {
    const view = viewAlert(analyst, alert(tlp));
    expect(view).not.toBeNull();
    expect(view!.reportIds).toEqual([reportId(1), reportId(2), reportId(3), reportId(4)]);
    expect(view!.tlp).toBe(tlp);
  });

  it('gives a non-analyst only their own organisation’s reports, in alert order', () => {
    expect(viewAlert(reporter, alert())!.reportIds).toEqual([reportId(1), reportId(4)]);
    expect(viewAlert(principal(['reporter'], 'north-rail'), alert('CLEAR'))!.reportIds).toEqual([
      reportId(3),
    ]);
  });

  it('gives a viewer from an uninvolved organisation no report ids but still the alert', () => {
    const view = viewAlert(principal(['ceptar'], 'south-water'), alert());
    expect(view).not.toBeNull();
    expect(view!.reportIds).toEqual([]);
    expect(view!.organisationCount).toBe(3);
  });

  it('copies the alert’s public fields', () => {
    const record = alert();
    const view = viewAlert(reporter, record)!;
    expect(view).toEqual({
      id: record.id,
      version: 3,
      kind: 'shared-indicator',
      severity: 'high',
      tlp: 'GREEN',
      title: record.title,
      indicators: record.indicators,
      sectors: ['finance', 'railway'],
      organisationCount: 3,
      reportIds: [reportId(1), reportId(4)],
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      exercise: false,
    });
  });

  it('keeps the exercise flag', () => {
    expect(viewAlert(reporter, { ...alert(), exercise: true })!.exercise).toBe(true);
  });

  const viewers: [string, Principal][] = [['analyst', analyst], ...nonAnalysts];
  it.each(viewers)('never names organisations, nor the store’s internals, to a %s', (_label, p) => {
    const view = viewAlert(p, alert('CLEAR'))!;
    const json = JSON.stringify(view);
    expect(json).not.toContain('organisationId');
    expect(json).not.toContain('contributions');
    expect(json).not.toContain('cursor');
    for (const organisation of ['acme-bank', 'beta-bank', 'north-rail'])
      expect(json).not.toContain(organisation);
    expect(Object.keys(view)).not.toContain('schema');
  });

  it.each(viewers)('produces a view that satisfies alertViewSchema for a %s', (_label, p) => {
    const view = viewAlert(p, alert('GREEN'))!;
    expect(alertViewSchema.parse(view)).toEqual(view);
  });
});
