import { describe, expect, it } from 'vitest';
import { UsageError } from '@renkei/cli';
import { formatLookupCsv, type LookupResult } from '@renkei/schema';
import { formatLookupTable, lookupCommand } from '../src/lookup.js';

const known: LookupResult = {
  value: 'hxxps://evil[.]example/a,b',
  canonical: { type: 'url', value: 'https://evil.example/a,b' },
  known: true,
  sightings: {
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-02T00:00:00.000Z',
    reportCount: 3,
    organisationCount: 2,
    sectors: ['finance', 'telecom'],
    organisations: [],
  },
  alerts: [
    {
      id: '00000000-0000-4000-8000-000000000001',
      kind: 'shared-indicator',
      severity: 'high',
      title: 't',
      version: 2,
      triageStatus: 'new',
      updatedAt: '2026-11-02T00:00:00.000Z',
    },
  ],
  suppressedBy: null,
};
const unknown: LookupResult = {
  value: 'say "hi"',
  canonical: null,
  error: 'is not an indicator of any type the hub correlates',
  known: false,
  sightings: null,
  alerts: [],
  suppressedBy: null,
};

describe('renkei lookup', () => {
  it('writes CSV with a header, quoting what needs it', () => {
    expect(formatLookupCsv([known, unknown]).split('\r\n')).toEqual([
      'value,type,canonical,known,reports,organisations,first_seen,last_seen,sectors,alerts,suppressed_by,error',
      '"hxxps://evil[.]example/a,b",url,"https://evil.example/a,b",yes,3,2,2026-11-01T00:00:00.000Z,' +
        '2026-11-02T00:00:00.000Z,finance telecom,shared-indicator:00000000-0000-4000-8000-000000000001,,',
      '"say ""hi""",,,no,,,,,,,,is not an indicator of any type the hub correlates',
    ]);
  });

  it('writes an aligned table for people, with a count at the end', () => {
    const lines = formatLookupTable([known, unknown]).split('\n');
    expect(lines[0]).toMatch(
      /^value\s+canonical\s+known\s+reports\s+organisations\s+last seen\s+alerts\s+suppressed by$/,
    );
    expect(lines[1]).toContain('https://evil.example/a,b');
    expect(lines[2]).toContain('(is not an indicator');
    expect(lines.at(-1)).toBe('2 values, 1 known');
    // Columns line up: the second column starts at the same place on every row.
    const at = lines[0]!.indexOf('canonical');
    expect(lines[1]!.slice(at).startsWith('https://')).toBe(true);
  });

  it('sends at most 10,000 values a request and answers in the order of the input', async () => {
    const values = Array.from({ length: 12_345 }, (_, i) => `v${i}.example`);
    const sizes: number[] = [];
    const fakeFetch = (async (_url: URL, init: RequestInit) => {
      const body = JSON.parse(init.body as string) as { values: string[] };
      sizes.push(body.values.length);
      const results = body.values.map((value) => ({ ...unknown, value }));
      return new Response(JSON.stringify({ results }), { status: 200 });
    }) as typeof fetch;
    const out = await lookupCommand(
      ['-', '--format', 'json', '--token', 't'],
      {},
      {
        stdin: async () => `# a comment\n\n${values.join('\n')}\n`,
        fetch: fakeFetch,
      },
    );
    expect(sizes).toEqual([10_000, 2_345]);
    expect((JSON.parse(out) as { results: LookupResult[] }).results.map((r) => r.value)).toEqual(values);
  });

  it('refuses an unknown format, no values and no token', async () => {
    const io = { stdin: async () => 'a.example' };
    await expect(lookupCommand(['-', '--format', 'xml', '--token', 't'], {}, io)).rejects.toThrow(UsageError);
    await expect(
      lookupCommand(['-', '--token', 't'], {}, { stdin: async () => '\n# only\n' }),
    ).rejects.toThrow(/no values/);
    await expect(lookupCommand(['-'], {}, io)).rejects.toThrow(/token/);
  });
});
