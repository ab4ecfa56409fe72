import { describe, expect, it } from 'vitest';
import { importMispEvent } from '@renkei/misp';
import { importStixBundle, TLP2_MARKING_IDS } from '@renkei/stix';
import { importAnswer, planMispImport, planStixImport } from '../../src/import-plan.js';

const options = {
  receivedAt: '2026-11-30T00:00:00.000Z',
  ids: { key: Buffer.alloc(32, 1), scope: 'mlit-csirt' },
};
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const indicator = (n: number, pattern: string, marking?: string) => ({
  type: 'indicator',
  spec_version: '2.1',
  id: `indicator--${uuid(n)}`,
  created: '2026-11-01T00:00:00.000Z',
  modified: '2026-11-01T00:00:00.000Z',
  pattern,
  pattern_type: 'stix',
  valid_from: '2026-11-01T00:00:00.000Z',
  ...(marking ? { object_marking_refs: [marking] } : {}),
});
const bundle = (...objects: unknown[]) => ({ type: 'bundle', id: `bundle--${uuid(9)}`, objects });
const stix = (input: unknown) => planStixImport(importStixBundle(input, options));

describe('planStixImport', () => {
  it('refuses input that is no bundle, naming the body, and too many objects, naming objects', () => {
    expect(stix('{')).toMatchObject({
      ok: false,
      refusal: { kind: 'invalid', fields: [{ field: '(body)' }] },
    });
    const many = bundle(...Array.from({ length: 20_001 }, (_, i) => ({ type: 'x', id: `x--${uuid(i)}` })));
    expect(stix(many)).toMatchObject({ ok: false, refusal: { fields: [{ field: 'objects' }] } });
  });

  it('refuses a bundle without any TLP marking as invalid, naming object_marking_refs', () => {
    expect(stix(bundle(indicator(1, "[domain-name:value = 'a.example']")))).toEqual({
      ok: false,
      refusal: { kind: 'invalid', fields: [{ field: 'object_marking_refs', message: expect.any(String) }] },
    });
  });

  it('answers a bundle with nothing mappable as nothing imported, listing each reason', () => {
    const plan = stix(bundle(indicator(1, "[file:name = 'x.exe']", TLP2_MARKING_IDS.GREEN)));
    expect(plan).toMatchObject({ ok: false, refusal: { kind: 'nothing-imported' } });
    if (plan.ok) return;
    expect(plan.refusal.fields.map((f) => f.field)).toEqual(['reports[0]', 'objects[0]']);
  });

  it('plans one submission per ready report and answers with each outcome', () => {
    const plan = stix(
      bundle(
        indicator(1, "[domain-name:value = 'a.example']", TLP2_MARKING_IDS.AMBER),
        indicator(2, "[file:name = 'x.exe']", TLP2_MARKING_IDS.AMBER),
      ),
    );
    if (!plan.ok) throw new Error('expected a plan');
    expect(plan.reports).toHaveLength(1);
    expect(plan.reports[0]!.submission?.tlp).toBe('AMBER');
    const answer = importAnswer(plan, new Map([[0, 'already-accepted']]));
    expect(answer.reports[0]).toMatchObject({ status: 'already-accepted', tlp: 'AMBER', indicators: 1 });
    expect(answer.summary).toEqual({
      items: 2,
      mapped: 1,
      context: 0,
      unmapped: 1,
      reportsAccepted: 1,
      reportsRefused: 0,
    });
    const conflicted = importAnswer(plan, new Map([[0, 'conflict']]));
    expect(conflicted.reports[0]).toMatchObject({ status: 'conflict', reason: { code: 'conflict' } });
    expect(conflicted.summary.reportsRefused).toBe(1);
    expect(() => importAnswer(plan, new Map())).toThrow(/without an outcome/);
  });
});

describe('planMispImport', () => {
  const event = (extra: Record<string, unknown>) =>
    planMispImport(
      importMispEvent({ Event: { uuid: uuid(1), info: 'x', date: '2026-11-01', ...extra } }, options),
    );

  it('refuses an event without a tlp: tag or with an unknown one, naming Event.Tag', () => {
    for (const Tag of [[], [{ name: 'tlp:ex:chr' }]]) {
      expect(event({ Tag, Attribute: [{ type: 'domain', value: 'a.example' }] })).toMatchObject({
        ok: false,
        refusal: { kind: 'invalid', fields: [{ field: 'Event.Tag' }] },
      });
    }
    expect(planMispImport(importMispEvent([], options))).toMatchObject({
      ok: false,
      refusal: { fields: [{ field: 'Event' }] },
    });
  });

  it('lists attributes by position, with the MISP object they belong to', () => {
    const plan = event({
      Tag: [{ name: 'tlp:green' }],
      Attribute: [{ type: 'domain', value: 'a.example' }],
      Object: [{ name: 'file', Attribute: [{ type: 'filename', value: 'x.exe' }] }],
    });
    if (!plan.ok) throw new Error('expected a plan');
    expect(plan.items).toEqual([
      { position: 'Attribute[0]', id: null, type: 'domain', status: 'mapped', reports: [0], indicators: 1 },
      {
        position: 'Object[0].Attribute[0]',
        id: null,
        type: 'file/filename',
        status: 'unmapped',
        reason: { code: 'unsupported-type', message: expect.any(String) },
      },
    ]);
  });

  it('still makes the event a report when no attribute maps: its title and TLP are worth sharing', () => {
    const plan = event({ Tag: [{ name: 'tlp:green' }], Attribute: [{ type: 'text', value: 'x' }] });
    if (!plan.ok) throw new Error('expected a plan');
    expect(plan.reports[0]!.answer).toMatchObject({ status: 'accepted', indicators: 0, tlp: 'GREEN' });
    expect(plan.items[0]).toMatchObject({ status: 'unmapped', reason: { code: 'unsupported-type' } });
  });
});
