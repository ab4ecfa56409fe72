import { describe, expect, it } from 'vitest';
import { runCommand, UsageError } from '@renkei/cli';
import { formatImportAnswer } from '../src/interop.js';

describe('renkei import and export', () => {
  it('says what became of each report and lists what was not mapped', () => {
    const text = formatImportAnswer({
      format: 'stix-2.1',
      sourceId: 'bundle--1',
      reports: [
        {
          source: { type: 'report', id: 'report--1' },
          status: 'accepted',
          id: '00000000-0000-4000-8000-000000000001',
          tlp: 'AMBER',
          indicators: 2,
          notes: ['TLP raised to AMBER by indicator--2'],
        },
        {
          source: { type: 'grouping', id: 'grouping--1' },
          status: 'refused',
          id: null,
          tlp: null,
          indicators: 0,
          notes: [],
          reason: { code: 'no-tlp-marking', message: 'no TLP' },
        },
      ],
      items: [
        {
          position: 'objects[0]',
          id: 'indicator--2',
          type: 'indicator',
          status: 'mapped',
          reports: [0],
          indicators: 2,
        },
        {
          position: 'objects[1]',
          id: 'malware--3',
          type: 'malware',
          status: 'unmapped',
          reason: { code: 'unsupported-type', message: 'no indicator' },
        },
      ],
      summary: { items: 2, mapped: 1, context: 0, unmapped: 1, reportsAccepted: 1, reportsRefused: 1 },
    });
    expect(text.split('\n')).toEqual([
      'report report--1: report 00000000-0000-4000-8000-000000000001 accepted (TLP:AMBER, 2 indicators)',
      '  note: TLP raised to AMBER by indicator--2',
      'grouping grouping--1: refused: no-tlp-marking no TLP',
      '2 objects: 1 mapped, 0 context, 1 not mapped',
      '  objects[1] malware--3: unsupported-type: no indicator',
    ]);
  });

  it('refuses wrong usage before reaching any server', async () => {
    await expect(runCommand(['import', 'yaml', 'x'], { RENKEI_TOKEN: 't' })).rejects.toBeInstanceOf(
      UsageError,
    );
    await expect(runCommand(['import', 'stix', 'x.json'], {})).rejects.toThrow(/token/);
    await expect(
      runCommand(['import', 'stix', 'x.json', '--tlp', 'PURPLE'], { RENKEI_TOKEN: 't' }),
    ).rejects.toThrow(/--tlp: one of CLEAR, GREEN, AMBER, AMBER\+STRICT, RED/);
    // MISP events carry their TLP as tags: no declaring one for them.
    await expect(
      runCommand(['import', 'misp', 'x.json', '--tlp', 'GREEN'], { RENKEI_TOKEN: 't' }),
    ).rejects.toThrow(/--tlp/);
    await expect(runCommand(['export', 'misp'], { RENKEI_TOKEN: 't' })).rejects.toBeInstanceOf(UsageError);
    await expect(
      runCommand(['export', 'stix', '--since', 'yesterday'], { RENKEI_TOKEN: 't' }),
    ).rejects.toThrow(/--since/);
  });
});
