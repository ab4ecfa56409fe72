import { describe, expect, it } from 'vitest';
import { importStixBundle } from '@renkei/stix';
import { RECEIVED_AT, exampleNames, marking, ok, readExample, ready } from './support.js';

/**
 * The OASIS example bundles (test/fixtures/vendor/stix-examples). Only one
 * of them carries a TLP marking, so the others are imported twice: as
 * published (refused: Renkei never assumes a TLP), and with every object
 * marked GREEN, to show what their objects map to.
 */

function summary(name: string, transform: (objects: Array<Record<string, unknown>>) => unknown[] = (o) => o) {
  const example = readExample(name);
  const result = ok(
    importStixBundle({ ...example, objects: transform(example.objects) }, { receivedAt: RECEIVED_AT }),
  );
  return {
    reports: result.reports.map((report) =>
      report.status === 'ready'
        ? { tlp: report.submission.tlp, indicators: report.submission.indicators }
        : report.reason.code,
    ),
    objects: Object.fromEntries(
      result.objects.map((object) => [
        object.id,
        object.status === 'unmapped' ? object.reason.code : object.status,
      ]),
    ),
  };
}

const markedGreen = (objects: Array<Record<string, unknown>>) =>
  objects.map((object) =>
    object.type === 'marking-definition' ? object : { ...object, ...marking('GREEN') },
  );

const SHA256 = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c';

describe('the OASIS example bundles', () => {
  it('are all here', () => {
    expect(exampleNames()).toHaveLength(8);
  });

  it('maps the one with a TLP 1.0 AMBER marking and a statement marking as AMBER', () => {
    const name = 'ctidoc_using-marking-definitions.json';
    expect(summary(name)).toEqual({
      reports: [{ tlp: 'AMBER', indicators: [{ type: 'ipv4', value: '10.0.0.0' }] }],
      objects: {
        'identity--611d9d41-dba5-4e13-9b29-e22488058ffc': 'unsupported-type',
        'indicator--33fe3b22-0201-47cf-85d0-97c02164528d': 'mapped',
        'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82': 'context',
        'marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f': 'context',
      },
    });
    expect(ready(importStixBundle(readExample(name), { receivedAt: RECEIVED_AT })).detectedAt).toBe(
      '2017-04-14T13:07:49.812Z',
    );
  });

  it.each(exampleNames().filter((name) => name !== 'ctidoc_using-marking-definitions.json'))(
    'refuses %s as published: it carries no TLP marking',
    (name) => {
      const { reports } = summary(name);
      expect(reports).toHaveLength(1);
      expect(['no-tlp-marking', 'no-indicator']).toContain(reports[0]);
    },
  );

  it.each([
    ['ctidoc_indicator-for-malicious-url.json', [{ type: 'url', value: 'http://x4z9arb.cn/4712/' }]],
    ['ctidoc_malware-indicator-for-file-hash.json', [{ type: 'sha256', value: SHA256 }]],
    ['ctidoc_sighting-of-an-indicator.json', [{ type: 'url', value: 'http://paypa1.banking.com' }]],
    ['schemas_indicator-for-c2-ip-address.json', [{ type: 'ipv4', value: '10.0.0.0' }]],
    [
      'schemas_indicators-for-C2-with-COA.json',
      [
        { type: 'ipv4', value: '10.0.0.0' },
        { type: 'sha256', value: SHA256 },
      ],
    ],
    [
      'schemas_infrastructure.json',
      [
        { type: 'ipv4', value: '198.51.100.3' },
        { type: 'domain', value: 'example.com' },
      ],
    ],
  ])('maps %s once marked', (name, indicators) => {
    expect(summary(name, markedGreen).reports).toEqual([{ tlp: 'GREEN', indicators }]);
  });

  it('maps an unmarked example with the TLP its sender declares, and a marking inside still wins when stricter', () => {
    const name = 'schemas_indicators-for-C2-with-COA.json';
    const declared = (tlp: 'GREEN' | 'AMBER', objects: Array<Record<string, unknown>>) =>
      ok(
        importStixBundle({ ...readExample(name), objects }, { receivedAt: RECEIVED_AT, declaredTlp: tlp }),
      ).reports.map((report) =>
        report.status === 'ready' ? [report.submission.tlp, report.notes] : report.reason.code,
      );
    const objects = readExample(name).objects;
    expect(declared('GREEN', objects)).toEqual([
      ['GREEN', ['TLP GREEN as the sender declared it for what carries no marking']],
    ]);
    // One indicator marked RED in the bundle: the report is RED whatever was declared.
    const oneRed = objects.map((object) =>
      object.type === 'indicator' && String(object.pattern).includes('10.0.0.0')
        ? { ...object, ...marking('RED') }
        : object,
    );
    expect(declared('AMBER', oneRed).map((entry) => (entry as unknown[])[0])).toEqual(['RED']);
    // Without a declaration the refusal says how to give one.
    const refused = ok(importStixBundle(readExample(name), { receivedAt: RECEIVED_AT })).reports[0]!;
    expect(refused.status === 'refused' && refused.reason.message).toContain('?tlp=GREEN');
  });

  it('lists the e-mail patterns it cannot map (MATCHES) and maps nothing from them', () => {
    const { reports, objects } = summary(
      'schemas_malicious-email-indicator-with-attachment.json',
      markedGreen,
    );
    expect(reports).toEqual(['no-indicator']);
    expect(objects).toEqual({
      'identity--f690c992-8e7d-4b9a-9303-3312616c0220': 'unsupported-type',
      'attack-pattern--d7b066aa-4091-4276-a142-29d5d81c3484': 'unsupported-type',
      'indicator--8cf9236f-1b96-493d-98be-0c1c1e8b62d7': 'unsupported-pattern',
      'indicator--2e17f6fe-3a4d-438a-911a-e509ba1b9933': 'unsupported-pattern',
      'relationship--c3fa00e6-1d31-4137-98f5-32a1ec0d0e92': 'unsupported-type',
      'relationship--8e231463-6b3e-4be6-9c44-56999d8c1d80': 'unsupported-type',
    });
  });

  it('maps the sighting example through its sighting, dated by first_seen', () => {
    const example = readExample('ctidoc_sighting-of-an-indicator.json');
    const objects = example.objects.map((object) =>
      object.type === 'sighting' ? { ...object, ...marking('AMBER') } : object,
    );
    const result = importStixBundle({ ...example, objects }, { receivedAt: RECEIVED_AT });
    expect(ready(result)).toMatchObject({
      tlp: 'AMBER',
      detectedAt: '2017-02-27T21:37:11.213Z',
      indicators: [{ type: 'url', value: 'http://paypa1.banking.com' }],
    });
  });
});
