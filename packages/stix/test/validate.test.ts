import { describe, expect, it } from 'vitest';
import { TLP_LEVELS } from '@renkei/schema';
import { TLP1_MARKING_IDS, tlpMarkingDefinition, validateStixBundle } from '@renkei/stix';
import { bundle, exampleNames, indicator, marking, readExample, sdo, uuid } from './support.js';

function issues(input: unknown) {
  const result = validateStixBundle(input);
  if (result.valid) throw new Error('expected the bundle to be invalid');
  return result.issues;
}

describe('validateStixBundle', () => {
  it.each(exampleNames())('accepts the OASIS example %s', (name) => {
    expect(validateStixBundle(readExample(name))).toEqual({ valid: true });
  });

  it('accepts groupings, incidents and notes, which the official bundle.json wrongly refuses', () => {
    const input = bundle(
      tlpMarkingDefinition('GREEN'),
      indicator(1, "[domain-name:value = 'a.example']", marking('GREEN')),
      sdo('grouping', 2, { context: 'suspicious-activity', object_refs: [`indicator--${uuid(1)}`] }),
      sdo('incident', 3, { name: 'Intrusion' }),
      sdo('note', 4, { content: 'Seen twice.', object_refs: [`incident--${uuid(3)}`] }),
    );
    expect(validateStixBundle(input)).toEqual({ valid: true });
  });

  it.each(TLP_LEVELS)('accepts the canonical TLP 2.0 marking of %s', (tlp) => {
    expect(validateStixBundle(bundle(tlpMarkingDefinition(tlp)))).toEqual({ valid: true });
  });

  it('names the object and the property of each problem', () => {
    const noPattern = indicator(1, "[domain-name:value = 'a.example']");
    delete (noPattern as Record<string, unknown>).pattern;
    const found = issues(
      bundle(
        noPattern,
        indicator(2, "[domain-name:value = 'b.example']", { created: '2025-01-01T00:00:00Z' }),
        sdo('report', 3, { name: 'r', published: '2025-01-01T00:00:00Z', object_refs: [] }),
        {
          type: 'marking-definition',
          spec_version: '2.1',
          id: TLP1_MARKING_IDS.CLEAR,
          created: '2017-01-20T00:00:00.000Z',
          definition_type: 'tlp',
          name: 'TLP:GREEN',
          definition: { tlp: 'green' },
        },
      ),
    );
    expect(found.map((issue) => [issue.index, issue.type])).toEqual(
      expect.arrayContaining([
        [0, 'indicator'],
        [1, 'indicator'],
        [2, 'report'],
        [3, 'marking-definition'],
      ]),
    );
    expect(found).toContainEqual(
      expect.objectContaining({
        index: 0,
        id: `indicator--${uuid(1)}`,
        path: '/',
        message: expect.stringContaining('pattern'),
      }),
    );
    // created must have milliseconds.
    expect(found).toContainEqual(expect.objectContaining({ index: 1, path: '/created' }));
    expect(found).toContainEqual(expect.objectContaining({ index: 2, path: '/object_refs' }));
  });

  it('checks custom objects against the common properties', () => {
    expect(validateStixBundle(bundle(sdo('x-example-thing', 1, { x_note: 'fine' })))).toEqual({
      valid: true,
    });
    expect(issues(bundle({ type: 'x-example-thing', id: `x-example-thing--${uuid(1)}` }))).toContainEqual(
      expect.objectContaining({ index: 0, message: expect.stringContaining('spec_version') }),
    );
  });

  it.each([
    ['not an object', 'bundle'],
    ['another type', { type: 'report', id: `bundle--${uuid(1)}`, objects: [{}] }],
    ['an id that is not a bundle id', { type: 'bundle', id: `report--${uuid(1)}`, objects: [{}] }],
    ['no objects', { type: 'bundle', id: `bundle--${uuid(1)}`, objects: [] }],
  ])('refuses an envelope that is %s', (_, input) => {
    expect(issues(input)[0]).toMatchObject({ index: null });
  });
});
