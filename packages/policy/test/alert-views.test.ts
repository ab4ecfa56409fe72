import { describe, expect, it } from 'vitest';
import {
  ROLES,
  TLP_LEVELS,
  alertViewSchema,
  type AlertContribution,
  type AlertRecord,
  type AlertView,
  type Principal,
  type Role,
  type Sector,
  type Tlp,
} from '@renkei/schema';
import { alertRecordFixture, contributionFixture } from '@renkei/testing';
import { audienceOf, viewAlert, viewAlertChange, viewedVersion, VIEW_RULES } from '@renkei/policy';

/**
 * The policy's table: every role × every TLP × the reporting organisation
 * being the viewer's own or another, of the same sector or another × the
 * viewer having reported the indicator or not, on an alert built from
 * mixed-TLP reports, asserting exactly the fields each viewer receives.
 */

const VIEWER_ORG = 'viewer-org';
const INDICATOR = { type: 'domain' as const, value: 'c2.evil.example' };
const T1 = '2026-11-28T01:00:00.000Z';
const T2 = '2026-11-28T02:00:00.000Z';
const T3 = '2026-11-28T03:00:00.000Z';

function viewer(roles: Role[], organisationId = VIEWER_ORG, sector: Sector = 'finance'): Principal {
  return { subject: `${organisationId}-${roles.join('-')}`, organisationId, sector, roles };
}

function contribution(overrides: Partial<AlertContribution>): AlertContribution {
  return contributionFixture({
    indicators: [INDICATOR],
    severity: 'low',
    category: 'phishing',
    detectedAt: T1,
    receivedAt: T1,
    addedInVersion: 1,
    ...overrides,
  });
}

/** What TLP 2.0 lets a non-analyst know of a report of another organisation. */
const KNOWLEDGE_OF_OTHERS: Record<Tlp, { viewerReportedToo: Knowledge; viewerDidNot: Knowledge }> = {
  CLEAR: { viewerReportedToo: 'readable', viewerDidNot: 'readable' },
  GREEN: { viewerReportedToo: 'readable', viewerDidNot: 'readable' },
  AMBER: { viewerReportedToo: 'counted', viewerDidNot: 'nothing' },
  'AMBER+STRICT': { viewerReportedToo: 'nothing', viewerDidNot: 'nothing' },
  RED: { viewerReportedToo: 'nothing', viewerDidNot: 'nothing' },
};
type Knowledge = 'readable' | 'counted' | 'nothing';

const RELATIONS = [
  { name: 'own organisation', organisationId: VIEWER_ORG, sector: 'finance' },
  { name: 'other organisation, same sector', organisationId: 'peer-bank', sector: 'finance' },
  { name: 'other organisation, other sector', organisationId: 'water-works', sector: 'water' },
] as const;

interface Case {
  role: Role;
  tlp: Tlp;
  relation: (typeof RELATIONS)[number];
  viewerReported: boolean;
}

const cases: Case[] = ROLES.flatMap((role) =>
  TLP_LEVELS.flatMap((tlp) =>
    RELATIONS.flatMap((relation) =>
      [true, false].map((viewerReported) => ({ role, tlp, relation, viewerReported })),
    ),
  ),
);

/**
 * Version 1: two GREEN reports of other organisations (railway, aviation),
 * and the viewer's own AMBER report when it reported the indicator too.
 * Version 2: the report under test, critical, with the case's TLP.
 */
function build({ tlp, relation, viewerReported }: Case) {
  const railway = contribution({ organisationId: 'rail-op', sector: 'railway', tlp: 'GREEN' });
  const aviation = contribution({ organisationId: 'air-op', sector: 'aviation', tlp: 'GREEN' });
  const mine = contribution({
    organisationId: VIEWER_ORG,
    sector: 'finance',
    tlp: 'AMBER',
    severity: 'medium',
  });
  const subject = contribution({
    organisationId: relation.organisationId,
    sector: relation.sector,
    tlp,
    severity: 'critical',
    detectedAt: T2,
    receivedAt: T2,
    addedInVersion: 2,
  });
  const first = viewerReported ? [railway, aviation, mine] : [railway, aviation];
  const all = [...first, subject];
  const record = alertRecordFixture({
    version: 2,
    tlp: tlp === 'CLEAR' || tlp === 'GREEN' ? (viewerReported ? 'AMBER' : 'GREEN') : tlp,
    severity: 'critical',
    title: 'the correlator’s own title, naming 4 organisations',
    reasons: ['the correlator’s own reasons'],
    indicators: [INDICATOR],
    sectors: [...new Set(all.map((c) => c.sector))].sort(),
    organisationCount: new Set(all.map((c) => c.organisationId)).size,
    contributions: all,
    history: [
      { version: 1, at: T1, change: 'contribution' },
      { version: 2, at: T2, change: 'contribution' },
    ],
    createdAt: T1,
    updatedAt: T2,
  });
  return { record, railway, aviation, mine, subject };
}

/** The exact view a non-analyst receives, written from the TLP table above. */
function expectedView({ tlp, relation, viewerReported }: Case, built: ReturnType<typeof build>): AlertView {
  const own = relation.organisationId === VIEWER_ORG;
  const knowledge: Knowledge = own
    ? 'readable'
    : KNOWLEDGE_OF_OTHERS[tlp][viewerReported ? 'viewerReportedToo' : 'viewerDidNot'];
  const readable = [built.railway, built.aviation, ...(viewerReported ? [built.mine] : [])];
  const counted = [...readable];
  if (knowledge === 'readable') readable.push(built.subject);
  if (knowledge !== 'nothing') counted.push(built.subject);
  const organisations = new Set(counted.map((c) => c.organisationId)).size;
  const countedOnly = organisations - new Set(readable.map((c) => c.organisationId)).size;
  const sectors = [...new Set(readable.map((c) => c.sector))].sort();
  const changedInVersion2 = knowledge !== 'nothing';
  const tlps = counted.map((c) => c.tlp);
  const severityOrder = ['low', 'medium', 'high', 'critical'];
  const sectorsReason =
    `in ${sectors.length} sectors (${sectors.join(', ')})` +
    (countedOnly > 0 ? `; 1 organisation shared only that it saw it too` : '');
  return {
    id: built.record.id,
    version: changedInVersion2 ? 2 : 1,
    kind: 'shared-indicator',
    severity: readable
      .map((c) => c.severity)
      .sort((a, b) => severityOrder.indexOf(b) - severityOrder.indexOf(a))[0]!,
    tlp: TLP_LEVELS.filter((level) => tlps.includes(level)).at(-1)!,
    title: `domain c2.evil.example reported by ${organisations} organisations`,
    reasons: [
      `${organisations} organisations reported domain c2.evil.example`,
      sectorsReason,
      knowledge === 'readable' ? `detected between ${T1} and ${T2}` : `detected ${T1}`,
    ],
    indicators: [INDICATOR],
    sectors,
    organisationCount: organisations,
    reportIds: counted.filter((c) => c.organisationId === VIEWER_ORG).map((c) => c.reportId),
    relatedAlertIds: [],
    tooCommon: false,
    createdAt: T1,
    updatedAt: changedInVersion2 ? T2 : T1,
    exercise: false,
    // The same sentences as codes and parameters, for consoles to say in their reader's language.
    text: {
      title: {
        code: 'shared-indicator',
        params: { indicators: ['domain c2.evil.example'], more: 0, organisations },
      },
      reasons: [
        { code: 'reported', params: { indicators: ['domain c2.evil.example'], more: 0, organisations } },
        { code: 'in-sectors', params: { sectors, countedOnly } },
        knowledge === 'readable'
          ? { code: 'detected-between', params: { from: T1, to: T2 } }
          : { code: 'detected-at', params: { at: T1 } },
      ],
    },
  };
}

describe('the policy table: role × TLP × own/other organisation × same/other sector × mixed-TLP alert', () => {
  it.each(cases)(
    '$role viewer, $tlp report of the $relation.name (viewer reported it too: $viewerReported)',
    (testCase) => {
      const built = build(testCase);
      const who = viewer([testCase.role]);
      const view = viewAlert(who, built.record);
      const change = viewAlertChange(who, built.record);
      expect(alertViewSchema.parse(view)).toEqual(view);

      if (testCase.role === 'analyst') {
        expect(view).toEqual({
          id: built.record.id,
          version: 2,
          kind: 'shared-indicator',
          severity: 'critical',
          tlp: built.record.tlp,
          title: built.record.title,
          reasons: built.record.reasons,
          indicators: [INDICATOR],
          sectors: built.record.sectors,
          organisationCount: built.record.organisationCount,
          reportIds: built.record.contributions.map((c) => c.reportId),
          relatedAlertIds: [],
          tooCommon: false,
          createdAt: T1,
          updatedAt: T2,
          exercise: false,
          contributions: built.record.contributions.map(({ addedInVersion: _v, ...c }) => c),
          watchlistEntryId: null,
          text: expect.objectContaining({
            title: {
              code: 'shared-indicator',
              params: {
                indicators: ['domain c2.evil.example'],
                more: 0,
                organisations: built.record.organisationCount,
              },
            },
          }),
        });
        expect(change).toEqual(view);
        expect(viewedVersion(who, built.record)).toBe(2);
        return;
      }

      const expected = expectedView(testCase, built);
      expect(view).toEqual(expected);
      // A frame for version 2 only when it changed what this viewer may see.
      expect(change).toEqual(expected.version === 2 ? expected : null);
      expect(viewedVersion(who, built.record)).toBe(expected.version);
      // Organisations are never named to anyone but analysts.
      const text = JSON.stringify(view);
      for (const organisationId of ['rail-op', 'air-op', 'peer-bank', 'water-works', VIEWER_ORG]) {
        expect(text).not.toContain(organisationId);
      }
    },
  );

  it('covers every role, TLP, relation and both sides of "reported it too"', () => {
    expect(cases).toHaveLength(ROLES.length * TLP_LEVELS.length * RELATIONS.length * 2);
  });

  it('gives every viewer of one audience the identical view, whatever their roles or subject', () => {
    for (const testCase of cases.filter((c) => c.role === 'reporter')) {
      const { record } = build(testCase);
      const reporter = viewer(['reporter']);
      const ceptar = { ...viewer(['ceptar', 'reporter']), subject: 'someone-else' };
      expect(audienceOf(ceptar)).toBe(audienceOf(reporter));
      expect(viewAlert(ceptar, record)).toEqual(viewAlert(reporter, record));
      expect(viewAlertChange(ceptar, record)).toEqual(viewAlertChange(reporter, record));
    }
  });
});

describe('what a viewer may know of an alert', () => {
  const reporter = viewer(['reporter']);
  const analyst = viewer(['analyst'], 'gsoc', 'central-government');

  function record(contributions: AlertContribution[], overrides: Partial<AlertRecord> = {}): AlertRecord {
    const version = Math.max(...contributions.map((c) => c.addedInVersion));
    return alertRecordFixture({
      version,
      indicators: [INDICATOR],
      contributions,
      history: Array.from({ length: version }, (_, index) => ({
        version: index + 1,
        at: `2026-11-28T0${index + 1}:00:00.000Z`,
        change: 'contribution' as const,
      })),
      createdAt: '2026-11-28T01:00:00.000Z',
      updatedAt: `2026-11-28T0${version}:00:00.000Z`,
      ...overrides,
    });
  }

  it('gives nothing when nothing remains beyond the viewer’s own report', () => {
    const alert = record([
      contribution({ organisationId: VIEWER_ORG, tlp: 'GREEN' }),
      contribution({ organisationId: 'other', tlp: 'RED' }),
      contribution({ organisationId: 'third', tlp: 'AMBER+STRICT' }),
    ]);
    expect(viewAlert(reporter, alert)).toBeNull();
    expect(viewAlertChange(reporter, alert)).toBeNull();
    expect(viewedVersion(reporter, alert)).toBeNull();
    expect(viewAlert(analyst, alert)).not.toBeNull();
  });

  it('gives nothing when the only report another organisation may see is a single GREEN one', () => {
    // The alert exists only because of the RED report: showing it would tell of that report.
    const alert = record([
      contribution({ organisationId: 'a', tlp: 'GREEN' }),
      contribution({ organisationId: 'b', tlp: 'RED' }),
    ]);
    expect(viewAlert(viewer(['ceptar'], 'c', 'water'), alert)).toBeNull();
  });

  it('does not join two GREEN reports detected further apart than the window through a hidden one', () => {
    const apart = VIEW_RULES.correlationWindowMs + 60_000;
    const start = Date.parse(T1);
    const alert = record([
      contribution({ organisationId: 'a', tlp: 'GREEN', detectedAt: T1 }),
      contribution({
        organisationId: 'b',
        tlp: 'RED',
        detectedAt: new Date(start + apart / 2).toISOString(),
      }),
      contribution({ organisationId: 'c', tlp: 'GREEN', detectedAt: new Date(start + apart).toISOString() }),
    ]);
    expect(viewAlert(reporter, alert)).toBeNull();
    expect(viewAlert(viewer(['reporter'], 'a'), alert)).toBeNull();
  });

  it.each(['AMBER+STRICT', 'RED'] as const)(
    'never changes anything others receive when a %s report joins: no frame, count, sector, severity, indicator or timing',
    (tlp) => {
      const before = [
        contribution({ organisationId: 'a', sector: 'finance', tlp: 'GREEN', severity: 'low' }),
        contribution({ organisationId: 'b', sector: 'water', tlp: 'GREEN', severity: 'low' }),
        contribution({ organisationId: VIEWER_ORG, sector: 'finance', tlp: 'AMBER', severity: 'low' }),
      ];
      const hidden = contribution({
        organisationId: 'secretive',
        sector: 'aviation',
        tlp,
        severity: 'critical',
        indicators: [INDICATOR, { type: 'ipv4', value: '192.0.2.66' }],
        detectedAt: T3,
        addedInVersion: 2,
      });
      const without = record(before);
      const withHidden = record([...before, hidden], {
        id: without.id,
        indicators: [INDICATOR, { type: 'ipv4', value: '192.0.2.66' }],
      });
      for (const who of [
        reporter,
        viewer(['ceptar'], 'a'),
        viewer(['reporter'], 'b', 'water'),
        viewer(['admin'], 'x'),
      ]) {
        expect(viewAlert(who, withHidden)).toEqual(viewAlert(who, without));
        expect(viewAlertChange(who, withHidden)).toBeNull();
        expect(viewedVersion(who, withHidden)).toBe(viewedVersion(who, without));
      }
      // The reporting organisation itself sees its report.
      expect(viewAlert(viewer(['reporter'], 'secretive', 'aviation'), withHidden)?.reportIds).toEqual([
        hidden.reportId,
      ]);
    },
  );

  it('lets an AMBER report count for a viewer who reported the same indicator, and tell nothing else', () => {
    const amber = contribution({
      organisationId: 'amber-org',
      sector: 'aviation',
      tlp: 'AMBER',
      severity: 'critical',
      indicators: [INDICATOR, { type: 'ipv4', value: '192.0.2.7' }],
      detectedAt: T2,
    });
    const alert = record([
      contribution({ organisationId: VIEWER_ORG, sector: 'finance', tlp: 'GREEN', severity: 'low' }),
      amber,
    ]);
    const view = viewAlert(reporter, alert)!;
    expect(view.organisationCount).toBe(2);
    expect(view.sectors).toEqual(['finance']);
    expect(view.severity).toBe('low');
    expect(view.indicators).toEqual([INDICATOR]);
    expect(view.reasons.join(' ')).not.toContain('192.0.2.7');
    expect(view.reasons.join(' ')).not.toContain('aviation');
    expect(view.reasons.join(' ')).not.toContain(T2);
    // A viewer who did not report the indicator learns nothing of it.
    expect(viewAlert(viewer(['reporter'], 'bystander'), alert)).toBeNull();
  });

  describe('a report whose TLP was tightened (history entries of kind "tlp")', () => {
    const green = contribution({ organisationId: 'a', sector: 'finance', tlp: 'GREEN' });
    const other = contribution({ organisationId: 'b', sector: 'water', tlp: 'GREEN' });
    const tightened = contribution({ organisationId: 'c', sector: 'railway', tlp: 'RED', addedInVersion: 2 });
    const alert = record([green, other, tightened], {
      version: 3,
      history: [
        { version: 1, at: T1, change: 'contribution' },
        { version: 2, at: T2, change: 'contribution' },
        { version: 3, at: T3, change: 'tlp', reportId: tightened.reportId, previousTlp: 'GREEN' },
      ],
      updatedAt: T3,
    });

    it('was seen while it was GREEN and is gone from the view once RED, in a new version', () => {
      const bystander = viewer(['reporter'], 'bystander', 'aviation');
      const view = viewAlert(bystander, alert)!;
      expect(view.organisationCount).toBe(2);
      expect(view.sectors).toEqual(['finance', 'water']);
      // Version 1 (a, b), version 2 (c joined while GREEN), version 3 (c became RED).
      expect(view.version).toBe(3);
      expect(view.updatedAt).toBe(T3);
      expect(viewAlertChange(bystander, alert)).toEqual(view);
    });

    it('stays whole for the reporting organisation', () => {
      const owner = viewer(['reporter'], 'c', 'railway');
      const view = viewAlert(owner, alert)!;
      expect(view.organisationCount).toBe(3);
      expect(view.reportIds).toEqual([tightened.reportId]);
      expect(view.tlp).toBe('RED');
      // Its own view did not change in version 3: the TLP is its own label, which it knew.
      expect(viewAlertChange(owner, alert)).not.toBeNull();
    });
  });

  it('keeps watchlist matches to analysts', () => {
    const alert = record(
      [
        contribution({ organisationId: VIEWER_ORG, tlp: 'GREEN' }),
        contribution({ organisationId: 'b', tlp: 'GREEN' }),
      ],
      { kind: 'watchlist-match' },
    );
    expect(viewAlert(reporter, alert)).toBeNull();
    expect(viewAlert(analyst, alert)?.kind).toBe('watchlist-match');
  });

  it('shows a campaign only with the indicators two organisations the viewer knows of share', () => {
    const shared = [INDICATOR, { type: 'ipv4' as const, value: '192.0.2.1' }];
    const secret = { type: 'sha256' as const, value: 'a'.repeat(64) };
    const alert = record(
      [
        contribution({ organisationId: 'a', sector: 'finance', tlp: 'GREEN', indicators: shared }),
        contribution({ organisationId: 'b', sector: 'water', tlp: 'GREEN', indicators: shared }),
        contribution({ organisationId: 'c', sector: 'railway', tlp: 'RED', indicators: [...shared, secret] }),
        contribution({ organisationId: 'd', sector: 'aviation', tlp: 'GREEN', indicators: [secret] }),
      ],
      { kind: 'campaign', indicators: [...shared, secret] },
    );
    const view = viewAlert(viewer(['ceptar'], 'x', 'gas'), alert)!;
    expect(view.kind).toBe('campaign');
    expect(view.indicators).toEqual(shared);
    // d shares only the secret, and only with the RED report: it joined through a pair the viewer may not know of.
    expect(view.organisationCount).toBe(2);
    expect(view.title).toBe('Campaign: 2 organisations share 2 indicators');
    expect(view.sectors).toEqual(['finance', 'water']);
    expect(JSON.stringify(view)).not.toContain('a'.repeat(64));
  });

  it('shows a sector surge only when the reports the viewer may read make one', () => {
    const at = (minutes: number) => new Date(Date.parse(T1) + minutes * 60_000).toISOString();
    const reports = [0, 10, 20, 30, 40].map((minutes, index) =>
      contribution({
        organisationId: `rail-${index}`,
        sector: 'railway',
        tlp: index < 4 ? 'GREEN' : 'RED',
        indicators: [],
        category: 'ddos',
        detectedAt: at(minutes),
      }),
    );
    const alert = record(reports, { kind: 'sector-surge', indicators: [], sectors: ['railway'] });
    const outsider = viewer(['ceptar'], 'x', 'gas');
    expect(viewAlert(outsider, alert)).toBeNull();
    const fifth = contribution({
      organisationId: 'rail-5',
      sector: 'railway',
      tlp: 'GREEN',
      indicators: [],
      category: 'ddos',
      detectedAt: at(50),
      addedInVersion: 2,
    });
    const grown = record([...reports, fifth], {
      id: alert.id,
      kind: 'sector-surge',
      indicators: [],
      sectors: ['railway'],
    });
    const view = viewAlert(outsider, grown)!;
    expect(view.title).toBe('Surge of ddos reports in railway: 5 reports');
    expect(view.organisationCount).toBe(5);
    expect(view.version).toBe(1);
  });

  it('marks an alert too common from the organisations the viewer knows of, not from the record', () => {
    const many = Array.from({ length: VIEW_RULES.tooCommonOrganisations + 1 }, (_, index) =>
      contribution({ organisationId: `org-${index}`, tlp: index < 3 ? 'GREEN' : 'RED' }),
    );
    const alert = record(many, { tooCommon: true });
    expect(viewAlert(reporter, alert)?.tooCommon).toBe(false);
    const allGreen = record(
      many.map((c) => ({ ...c, tlp: 'GREEN' as const })),
      { tooCommon: true },
    );
    expect(viewAlert(reporter, allGreen)?.tooCommon).toBe(true);
  });

  it('marks exercise alerts in the recomputed title', () => {
    const alert = record(
      [
        contribution({ organisationId: 'a', tlp: 'GREEN' }),
        contribution({ organisationId: 'b', tlp: 'CLEAR' }),
      ],
      { exercise: true },
    );
    const view = viewAlert(reporter, alert)!;
    expect(view.exercise).toBe(true);
    expect(view.title).toMatch(/^\[EXERCISE\] /);
  });
});
