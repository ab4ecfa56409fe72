import { describe, expect, it } from 'vitest';
import { TLP_LEVELS, type AlertView, type Tlp, type WarningView } from '@renkei/schema';
import {
  TLP2_MARKING_IDS,
  exportStixBundle,
  importStixBundle,
  validateStixBundle,
  type StixBundle,
  type StixExportInput,
  type StixObject,
  type StixReportView,
} from '@renkei/stix';
import { RECEIVED_AT, ready } from './support.js';

const SHA256 = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c';
const SHA1 = '77b0c41b7d340b8a3d903f21347bbf06aa766b5b';
const MD5 = '0749bae92ca336a02c83d126e04ec628';

const REPORT_ID = '6f1c1f4e-3a8b-4c55-9d55-0f6b1b2a9e01';
const ALERT_ID = '7f1c1f4e-3a8b-4c55-9d55-0f6b1b2a9e02';
const WARNING_ID = '8f1c1f4e-3a8b-4c55-9d55-0f6b1b2a9e03';

function reportView(overrides: Partial<StixReportView> = {}): StixReportView {
  return {
    id: REPORT_ID,
    title: 'Beaconing to a C2 address',
    description: 'Two workstations beaconed every 60 s.',
    category: 'malware',
    severity: 'high',
    tlp: 'AMBER',
    detectedAt: '2026-01-02T03:04:05+09:00',
    receivedAt: '2026-01-02T00:00:00Z',
    indicators: [
      { type: 'ipv4', value: '203.0.113.5' },
      { type: 'ipv6', value: '2001:db8::5' },
      { type: 'domain', value: 'c2.example' },
      { type: 'url', value: "http://c2.example/it's\\here" },
      { type: 'email', value: 'phish@c2.example' },
      { type: 'md5', value: MD5 },
      { type: 'sha1', value: SHA1 },
      { type: 'sha256', value: SHA256 },
      { type: 'cve', value: 'CVE-2024-3400' },
    ],
    ...overrides,
  };
}

function alertView(overrides: Partial<AlertView> = {}): AlertView {
  return {
    id: ALERT_ID,
    version: 2,
    kind: 'shared-indicator',
    severity: 'high',
    tlp: 'GREEN',
    title: 'One C2 address reported by 2 organisations',
    reasons: ['203.0.113.5 was reported by 2 organisations in 1 sector'],
    indicators: [{ type: 'ipv4', value: '203.0.113.5' }],
    sectors: ['finance'],
    organisationCount: 2,
    reportIds: [REPORT_ID],
    relatedAlertIds: [],
    tooCommon: false,
    createdAt: '2026-01-03T00:00:00Z',
    updatedAt: '2026-01-04T00:00:00Z',
    exercise: false,
    ...overrides,
  };
}

function warningView(overrides: Partial<WarningView> = {}): WarningView {
  return {
    id: WARNING_ID,
    title: 'Patch PAN-OS now',
    body: 'Exploitation seen in two sectors.',
    severity: 'critical',
    tlp: 'CLEAR',
    sectors: ['finance', 'telecom'],
    indicators: [{ type: 'cve', value: 'CVE-2024-3400' }],
    alertIds: [ALERT_ID],
    publishedAt: '2026-01-05T00:00:00Z',
    exercise: false,
    ...overrides,
  };
}

const contribution = (organisationId: string, tlp: Tlp, reportId: string) => ({
  reportId,
  organisationId,
  sector: 'finance' as const,
  tlp,
  severity: 'high' as const,
  category: 'malware' as const,
  detectedAt: '2026-01-02T01:00:00Z',
  receivedAt: '2026-01-02T02:00:00Z',
  indicators: [{ type: 'ipv4' as const, value: '203.0.113.5' }],
});

/** Every bundle these tests make is checked against the official schemas. */
function exportValid(input: StixExportInput) {
  const result = exportStixBundle(input);
  const validation = validateStixBundle(result.bundle);
  if (!validation.valid)
    throw new Error(`invalid bundle: ${JSON.stringify(validation.issues.slice(0, 5), null, 2)}`);
  return result;
}

function byType(bundle: StixBundle, type: string): StixObject[] {
  return bundle.objects.filter((object) => object.type === type);
}

function byId(bundle: StixBundle, id: unknown): StixObject {
  const found = bundle.objects.find((object) => object.id === id);
  if (!found) throw new Error(`no object ${String(id)}`);
  return found;
}

describe('exportStixBundle', () => {
  const everything: StixExportInput = {
    hub: { name: 'GSOC Renkei', created: '2025-04-01T00:00:00Z' },
    reports: [
      reportView({ author: { kind: 'named', key: 'acme-bank', name: 'Acme Bank', sectors: ['finance'] } }),
    ],
    alerts: [alertView()],
    warnings: [warningView()],
  };

  it('gives a bundle the official STIX 2.1 schemas accept', () => {
    const { bundle, omitted } = exportValid(everything);
    expect(bundle.type).toBe('bundle');
    expect(bundle.id).toMatch(/^bundle--[0-9a-f-]{36}$/);
    expect(omitted).toEqual([]);
  });

  it('gives the same bytes for the same input, in any order, and other bytes for other content', () => {
    const first = JSON.stringify(exportValid(everything).bundle);
    expect(JSON.stringify(exportValid(everything).bundle)).toBe(first);
    const reordered = {
      ...everything,
      reports: [
        ...everything.reports!,
        reportView({ id: '6f1c1f4e-3a8b-4c55-9d55-0f6b1b2a9eff', title: 'Second' }),
      ],
    };
    const reversed = { ...reordered, reports: [...reordered.reports].reverse() };
    expect(JSON.stringify(exportValid(reversed).bundle)).toBe(JSON.stringify(exportValid(reordered).bundle));
    const tightened = { ...everything, alerts: [alertView({ tlp: 'AMBER' })] };
    expect(exportValid(tightened).bundle.id).not.toBe(exportValid(everything).bundle.id);
  });

  it('includes the canonical TLP 2.0 marking definitions, exactly as OASIS publishes them', () => {
    const { bundle } = exportValid(everything);
    const markings = byType(bundle, 'marking-definition');
    expect(markings.map((m) => m.id)).toEqual([
      TLP2_MARKING_IDS.CLEAR,
      TLP2_MARKING_IDS.GREEN,
      TLP2_MARKING_IDS.AMBER,
    ]);
    expect(markings[2]).toEqual({
      type: 'marking-definition',
      spec_version: '2.1',
      id: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
      created: '2022-10-01T00:00:00.000Z',
      name: 'TLP:AMBER',
      extensions: {
        'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d': {
          extension_type: 'property-extension',
          tlp_2_0: 'amber',
        },
      },
    });
  });

  it.each(TLP_LEVELS)('marks every object of a %s report with that TLP, and the hub CLEAR', (tlp) => {
    const { bundle } = exportValid({ reports: [reportView({ tlp })] });
    const tlpId = TLP2_MARKING_IDS[tlp];
    expect(byId(bundle, tlpId)).toMatchObject({ name: `TLP:${tlp}` });
    for (const object of bundle.objects) {
      if (object.type === 'marking-definition') continue;
      const expected = object.type === 'identity' ? [TLP2_MARKING_IDS.CLEAR] : [tlpId];
      expect(object.object_marking_refs, object.id).toEqual(expected);
    }
  });

  it('refers only to objects the bundle holds', () => {
    const { bundle } = exportValid(everything);
    const ids = new Set(bundle.objects.map((object) => object.id));
    const refs = bundle.objects.flatMap((object) =>
      Object.entries(object).flatMap(([key, value]) =>
        key.endsWith('_ref') ? [value] : key.endsWith('_refs') ? (value as string[]) : [],
      ),
    );
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(ids.has(ref as string), String(ref)).toBe(true);
  });

  it('writes one indicator with a pattern per indicator of a report, and a vulnerability for a CVE', () => {
    const { bundle } = exportValid({ reports: [reportView()] });
    const patterns = byType(bundle, 'indicator')
      .map((indicator) => indicator.pattern)
      .sort();
    expect(patterns).toEqual(
      [
        "[ipv4-addr:value = '203.0.113.5']",
        "[ipv6-addr:value = '2001:db8::5']",
        "[domain-name:value = 'c2.example']",
        "[url:value = 'http://c2.example/it\\'s\\\\here']",
        "[email-addr:value = 'phish@c2.example']",
        `[file:hashes.MD5 = '${MD5}']`,
        `[file:hashes.'SHA-1' = '${SHA1}']`,
        `[file:hashes.'SHA-256' = '${SHA256}']`,
      ].sort(),
    );
    const [vulnerability] = byType(bundle, 'vulnerability');
    expect(vulnerability).toMatchObject({
      name: 'CVE-2024-3400',
      external_references: [{ source_name: 'cve', external_id: 'CVE-2024-3400' }],
    });
    const indicator = byType(bundle, 'indicator').find((i) => i.name === '203.0.113.5')!;
    expect(indicator).toMatchObject({
      pattern_type: 'stix',
      pattern_version: '2.1',
      created: '2026-01-02T00:00:00.000Z',
      modified: '2026-01-02T00:00:00.000Z',
      // detectedAt, in UTC with milliseconds.
      valid_from: '2026-01-01T18:04:05.000Z',
    });
  });

  it('writes the report with its indicators, a sighting of each at detection time, and Renkei labels', () => {
    const { bundle } = exportValid({ reports: [reportView({ modifiedAt: '2026-02-01T00:00:00Z' })] });
    const [report] = byType(bundle, 'report');
    expect(report).toMatchObject({
      name: 'Beaconing to a C2 address',
      description: 'Two workstations beaconed every 60 s.',
      published: '2026-01-02T00:00:00.000Z',
      created: '2026-01-02T00:00:00.000Z',
      modified: '2026-02-01T00:00:00.000Z',
      labels: ['renkei:category=malware', 'renkei:severity=high'],
    });
    const sightings = byType(bundle, 'sighting');
    expect(sightings).toHaveLength(8);
    for (const sighting of sightings) {
      expect(sighting).toMatchObject({
        first_seen: '2026-01-01T18:04:05.000Z',
        last_seen: '2026-01-01T18:04:05.000Z',
        count: 1,
      });
      expect(sighting).not.toHaveProperty('where_sighted_refs');
      expect(report!.object_refs).toContain(sighting.id);
      expect(report!.object_refs).toContain(sighting.sighting_of_ref);
    }
    expect(report!.object_refs).toHaveLength(17);
    expect(report!.created_by_ref).toBe(byType(bundle, 'identity')[0]!.id);
  });

  it('shows a named author by name and an anonymised one without anything that leads back to it', () => {
    const named = exportValid({
      reports: [
        reportView({ author: { kind: 'named', key: 'acme-bank', name: 'Acme Bank', sectors: ['finance'] } }),
      ],
    }).bundle;
    const author = byType(named, 'identity').find((identity) => identity.name === 'Acme Bank')!;
    expect(author).toMatchObject({ identity_class: 'organization', sectors: ['finance'] });
    expect(byType(named, 'report')[0]!.created_by_ref).toBe(author.id);
    expect(byType(named, 'sighting')[0]!.where_sighted_refs).toEqual([author.id]);

    const anonymised = exportValid({
      reports: [reportView({ author: { kind: 'anonymised', key: 'p-3f9c2a', sectors: ['finance'] } })],
    }).bundle;
    const text = JSON.stringify(anonymised);
    expect(text).not.toContain('Acme');
    expect(text).not.toContain('acme-bank');
    expect(text).not.toContain('p-3f9c2a');
    expect(byType(anonymised, 'identity').map((identity) => identity.name)).toEqual([
      'Renkei',
      'An organisation of the finance sector',
    ]);
  });

  it('marks an identity as far as the least restricted object that points to it may go', () => {
    const author = { kind: 'named' as const, key: 'acme-bank', name: 'Acme Bank' };
    const { bundle } = exportValid({
      reports: [
        reportView({ tlp: 'RED', author }),
        reportView({ id: '6f1c1f4e-3a8b-4c55-9d55-0f6b1b2a9eff', tlp: 'GREEN', author }),
      ],
    });
    const identity = byType(bundle, 'identity').find((i) => i.name === 'Acme Bank')!;
    expect(identity.object_marking_refs).toEqual([TLP2_MARKING_IDS.GREEN]);
  });

  it('writes a grouping per alert, with summary sightings for a viewer who may not see contributions', () => {
    const { bundle } = exportValid({ reports: [reportView()], alerts: [alertView()] });
    const [grouping] = byType(bundle, 'grouping');
    expect(grouping).toMatchObject({
      name: 'One C2 address reported by 2 organisations',
      description: '203.0.113.5 was reported by 2 organisations in 1 sector',
      context: 'suspicious-activity',
      created: '2026-01-03T00:00:00.000Z',
      modified: '2026-01-04T00:00:00.000Z',
      labels: ['renkei:alert-kind=shared-indicator', 'renkei:severity=high', 'renkei:sector=finance'],
      object_marking_refs: [TLP2_MARKING_IDS.GREEN],
    });
    const refs = (grouping!.object_refs as string[]).map((id) => byId(bundle, id));
    expect(refs.map((object) => object.type)).toEqual(['indicator', 'sighting', 'report']);
    expect(refs[1]).toMatchObject({ summary: true, count: 2, sighting_of_ref: refs[0]!.id });
    expect(refs[1]).not.toHaveProperty('where_sighted_refs');
  });

  it('counts organisations in a sighting only for a shared-indicator alert', () => {
    const { bundle } = exportValid({
      alerts: [
        alertView({
          kind: 'campaign',
          indicators: [
            { type: 'domain', value: 'a.example' },
            { type: 'domain', value: 'b.example' },
          ],
        }),
      ],
    });
    const sightings = byType(bundle, 'sighting');
    expect(sightings).toHaveLength(2);
    for (const sighting of sightings) expect(sighting).not.toHaveProperty('count');
  });

  it('writes a sighting per contribution for an analyst, naming only the organisations it is given', () => {
    const view = alertView({
      tlp: 'AMBER',
      organisationCount: 2,
      reportIds: [REPORT_ID, '6f1c1f4e-3a8b-4c55-9d55-0f6b1b2a9eee'],
      contributions: [
        contribution('acme-bank', 'GREEN', REPORT_ID),
        contribution('beta-bank', 'AMBER', '6f1c1f4e-3a8b-4c55-9d55-0f6b1b2a9eee'),
      ],
      watchlistEntryId: null,
    });
    const { bundle } = exportValid({
      alerts: [view],
      organisations: { 'acme-bank': { kind: 'named', key: 'acme-bank', name: 'Acme Bank' } },
    });
    const sightings = byType(bundle, 'sighting');
    expect(sightings).toHaveLength(2);
    const acme = byType(bundle, 'identity').find((identity) => identity.name === 'Acme Bank')!;
    expect(sightings.map((s) => [s.where_sighted_refs, s.object_marking_refs, s.first_seen])).toEqual(
      expect.arrayContaining([
        [[acme.id], [TLP2_MARKING_IDS.GREEN], '2026-01-02T01:00:00.000Z'],
        [undefined, [TLP2_MARKING_IDS.AMBER], '2026-01-02T01:00:00.000Z'],
      ]),
    );
    expect(JSON.stringify(bundle)).not.toContain('beta');
    // Reports the export does not hold are not referred to.
    expect(byType(bundle, 'grouping')[0]!.object_refs).toHaveLength(3);
  });

  it('refers a grouping without indicators or visible reports to the hub, as STIX needs a reference', () => {
    const { bundle } = exportValid({
      alerts: [alertView({ kind: 'sector-surge', indicators: [], reportIds: [], organisationCount: 5 })],
    });
    expect(byType(bundle, 'grouping')[0]!.object_refs).toEqual([byType(bundle, 'identity')[0]!.id]);
  });

  it('links related alerts and the alerts of a warning when the bundle holds them', () => {
    const related = alertView({
      id: '7f1c1f4e-3a8b-4c55-9d55-0f6b1b2a9e99',
      relatedAlertIds: [ALERT_ID, '7f1c1f4e-3a8b-4c55-9d55-0f6b1b2a9e98'],
    });
    const { bundle } = exportValid({ alerts: [alertView(), related], warnings: [warningView()] });
    const groupings = byType(bundle, 'grouping');
    const first = groupings.find(
      (g) =>
        g.name === alertView().title &&
        !(g.object_refs as string[]).some((ref) => ref.startsWith('grouping--')),
    )!;
    const second = groupings.find((g) => g !== first)!;
    expect(second.object_refs).toContain(first.id);
    const warning = byType(bundle, 'report')[0]!;
    expect(warning).toMatchObject({
      name: 'Patch PAN-OS now',
      description: 'Exploitation seen in two sectors.',
      published: '2026-01-05T00:00:00.000Z',
      labels: [
        'renkei:warning',
        'renkei:severity=critical',
        'renkei:sector=finance',
        'renkei:sector=telecom',
      ],
      object_marking_refs: [TLP2_MARKING_IDS.CLEAR],
    });
    expect(warning.object_refs).toContain(first.id);
    expect((warning.object_refs as string[]).map((id) => byId(bundle, id).type).sort()).toEqual([
      'grouping',
      'vulnerability',
    ]);
  });

  it('marks exercises so no tool mistakes them for real incidents', () => {
    const { bundle } = exportValid({
      reports: [reportView({ exercise: true })],
      alerts: [alertView({ exercise: true })],
      warnings: [warningView({ exercise: true, sectors: 'all' })],
    });
    const containers = [...byType(bundle, 'report'), ...byType(bundle, 'grouping')];
    expect(containers).toHaveLength(3);
    for (const container of containers) {
      expect(container.labels).toContain('exercise');
      expect(container.x_renkei_exercise).toBe(true);
    }
    expect(byType(bundle, 'report').find((r) => r.name === 'Patch PAN-OS now')!.labels).toContain(
      'renkei:sector=all',
    );
  });

  it('leaves out, and lists, an indicator STIX cannot express', () => {
    const { bundle, omitted } = exportValid({
      reports: [reportView({ indicators: [{ type: 'cve', value: 'CVE-2024-12' }] })],
    });
    expect(omitted).toEqual([
      {
        source: `report:${REPORT_ID}`,
        indicator: { type: 'cve', value: 'CVE-2024-12' },
        reason: '"CVE-2024-12" is not a CVE id STIX accepts',
      },
    ]);
    expect(byType(bundle, 'report')[0]!.object_refs).toEqual([byType(bundle, 'identity')[0]!.id]);
  });

  it('labels indicators the hub derived', () => {
    const { bundle } = exportValid({
      alerts: [alertView({ indicators: [{ type: 'domain', value: 'c2.example', derived: true }] })],
    });
    expect(byType(bundle, 'indicator')[0]!.labels).toEqual(['renkei:derived']);
  });

  it('exports nothing but the hub for no views', () => {
    const { bundle } = exportValid({});
    expect(bundle.objects.map((object) => object.type)).toEqual(['marking-definition', 'identity']);
  });

  it('refuses input that breaks its own schema: a caller’s bug, not bad data from outside', () => {
    expect(() => exportStixBundle({ reports: [reportView({ detectedAt: 'yesterday' })] })).toThrow();
    expect(() => exportStixBundle({ alerts: [{ ...alertView(), tlp: 'PURPLE' as Tlp }] })).toThrow();
  });
});

describe('round trip: a report exported to STIX and imported again', () => {
  it.each(TLP_LEVELS)('keeps its indicators, TLP, category, severity and detection time (%s)', (tlp) => {
    const view = reportView({ tlp, exercise: tlp === 'RED' });
    const { bundle } = exportValid({ reports: [view] });
    const result = importStixBundle(JSON.stringify(bundle), { receivedAt: RECEIVED_AT });
    const submission = ready(result);
    expect(submission.tlp).toBe(tlp);
    expect(submission.indicators).toEqual(view.indicators.map(({ type, value }) => ({ type, value })));
    expect(submission).toMatchObject({
      title: view.title,
      description: view.description,
      category: view.category,
      severity: view.severity,
      detectedAt: new Date(view.detectedAt).toISOString(),
      exercise: tlp === 'RED',
    });
  });

  it('keeps each report apart when alerts and warnings travel with it', () => {
    const { bundle } = exportValid({
      reports: [reportView()],
      alerts: [alertView()],
      warnings: [warningView()],
    });
    const result = importStixBundle(bundle, { receivedAt: RECEIVED_AT });
    if (!result.ok) throw new Error('refused');
    // Objects are written grouped by type, so the grouping comes first.
    expect(result.reports.map((report) => [report.source.type, report.status])).toEqual([
      ['grouping', 'ready'],
      ['report', 'ready'],
      ['report', 'ready'],
    ]);
    const imported = result.reports.flatMap((report) =>
      report.status === 'ready' ? [report.submission] : [],
    );
    const report = imported.find((submission) => submission.title === reportView().title)!;
    expect(report.indicators).toHaveLength(9);
    expect(imported.find((submission) => submission.title === warningView().title)).toMatchObject({
      tlp: 'CLEAR',
      severity: 'critical',
      indicators: [{ type: 'cve', value: 'CVE-2024-3400' }],
    });
    expect(result.objects.filter((object) => object.status === 'unmapped')).toEqual([
      expect.objectContaining({ type: 'identity' }),
    ]);
  });
});
