import { describe, expect, it } from 'vitest';
import type { Principal, Tlp } from '@renkei/schema';
import { validateStixBundle } from '@renkei/stix';
import { alertRecordFixture } from '@renkei/testing';
import type { ReportSource } from '../../src/queries/exports.js';
import { buildStixExport } from '../../src/stix/build.js';

const member: Principal = {
  subject: 'u',
  organisationId: 'water-ceptar',
  sector: 'water',
  roles: ['ceptar'],
};
const analyst: Principal = {
  subject: 'a',
  organisationId: 'gsoc',
  sector: 'central-government',
  roles: ['analyst'],
};

const report = (n: number, tlp: Tlp, organisationId = 'mlit-csirt'): ReportSource => ({
  id: `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`,
  organisationId,
  sector: 'central-government',
  title: `${tlp} report`,
  description: null,
  category: 'phishing',
  severity: 'high',
  tlp,
  detectedAt: '2026-11-01T00:00:00.000Z',
  receivedAt: '2026-11-01T01:00:00.000Z',
  exercise: false,
  indicators: [{ type: 'domain', value: `${tlp.toLowerCase().replace('+', '-')}.example` }],
  addedAt: `2026-11-01T0${n}:00:00.000Z`,
});
const names = (id: string) => `${id} name`;
const sources = {
  reports: [
    report(1, 'CLEAR'),
    report(2, 'GREEN'),
    report(3, 'AMBER'),
    report(4, 'RED'),
    report(5, 'RED', 'water-ceptar'),
  ],
  alerts: [{ record: alertRecordFixture(), addedAt: '2026-11-01T06:00:00.000Z' }],
  warnings: [],
};

describe('buildStixExport', () => {
  it("gives a member its own reports named and others' CLEAR and GREEN anonymised, valid and the same every time", () => {
    const first = buildStixExport(member, sources, names);
    expect(JSON.stringify(buildStixExport(member, sources, names).bundle)).toBe(JSON.stringify(first.bundle));
    expect(validateStixBundle(first.bundle)).toEqual({ valid: true });
    const reports = first.bundle.objects.filter((o) => o.type === 'report').map((o) => o.name);
    expect(reports.sort()).toEqual(['CLEAR report', 'GREEN report', 'RED report']);
    const identities = first.bundle.objects.filter((o) => o.type === 'identity').map((o) => o.name);
    expect(identities.sort()).toEqual([
      'An organisation of the central-government sector',
      'Renkei',
      'water-ceptar name',
    ]);
    expect(JSON.stringify(first.bundle)).not.toContain('mlit-csirt');
  });

  it('keeps a collection under its TLP ceiling and dates every object by the items it came from', () => {
    const own = buildStixExport(member, sources, names, { kind: 'community' });
    const markings = own.bundle.objects.flatMap((o) => (o.object_marking_refs as string[] | undefined) ?? []);
    expect(new Set(markings).size).toBeLessThanOrEqual(2);
    expect(JSON.stringify(own.bundle)).not.toContain('red.example');
    for (const object of own.bundle.objects) expect(own.dateAdded.has(object.id), object.id).toBe(true);
    const indicator = own.bundle.objects.find((o) => o.type === 'indicator' && o.name === 'green.example')!;
    expect(own.dateAdded.get(indicator.id)).toBe('2026-11-01T02:00:00.000Z');
  });

  it('names organisations to analysts, and gives anonymous readers CLEAR without authors', () => {
    const all = buildStixExport(analyst, sources, names);
    expect(all.bundle.objects.filter((o) => o.type === 'report')).toHaveLength(5);
    expect(JSON.stringify(all.bundle)).toContain('mlit-csirt name');
    const anonymous = buildStixExport(null, sources, names, { kind: 'public' });
    expect(anonymous.bundle.objects.filter((o) => o.type === 'report').map((o) => o.name)).toEqual([
      'CLEAR report',
    ]);
    expect(anonymous.bundle.objects.filter((o) => o.type === 'identity').map((o) => o.name)).toEqual([
      'Renkei',
    ]);
  });
});
