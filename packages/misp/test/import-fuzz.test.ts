import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reportSchema, reportSubmissionSchema } from '@renkei/schema';
import { importMispEvent, type MispImportResult } from '@renkei/misp';

/*
 * Malformed events never make the importer throw (an event without uuid was
 * a 500): a rich event and the vendor examples are broken at any path, at
 * every level, and the import must answer with a refusal naming a field, or
 * a report that is a valid, named submission.
 */

const options = {
  receivedAt: '2026-03-01T00:00:00.000Z',
  ids: { key: Buffer.alloc(32, 5), scope: 'acme-bank' },
};

function vendor(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./fixtures/vendor/${name}`, import.meta.url), 'utf8'));
}

function richEvent(): Record<string, unknown> {
  const attribute = (n: number, type: string, value: string, extra: Record<string, unknown> = {}) => ({
    uuid: `5b6464ca-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type,
    value,
    to_ids: true,
    ...extra,
  });
  return {
    Event: {
      uuid: '5b646415-7b48-40d5-86b4-c0070acd0835',
      info: 'Phishing wave against ministries',
      date: '2026-02-10',
      threat_level_id: '2',
      timestamp: '1770000000',
      Tag: [{ name: 'tlp:amber' }, { name: 'exercise:drill' }],
      EventTag: [{ Tag: { name: 'tlp:green' } }],
      Attribute: [
        attribute(1, 'domain|ip', 'evil.example|198.51.100.7', { Tag: [{ name: 'tlp:red' }] }),
        attribute(2, 'ip-dst|port', '2001:db8::1|443'),
        attribute(3, 'url', 'https://evil.example/a', {
          Sighting: [{ type: '0' }, { type: '2', date_sighting: '1790000000' }],
        }),
        attribute(4, 'filename|sha256', `x.exe|${'a'.repeat(64)}`),
        attribute(5, 'vulnerability', 'CVE-2024-3400'),
        attribute(6, 'email-src', 'ceo@evil.example', { AttributeTag: [{ Tag: { name: 'tlp:clear' } }] }),
      ],
      Object: [
        {
          name: 'file',
          Attribute: [attribute(7, 'md5', 'b'.repeat(32)), attribute(8, 'sha1', 'c'.repeat(40))],
        },
      ],
    },
  };
}

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = [], into: Path[] = []): Path[] {
  if (Array.isArray(value)) {
    value.forEach((child, i) => {
      into.push([...prefix, i]);
      pathsOf(child, [...prefix, i], into);
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      into.push([...prefix, key]);
      pathsOf(child, [...prefix, key], into);
    }
  }
  return into;
}

const ODD_VALUES: unknown[] = [
  null,
  '',
  0,
  -1,
  1e308,
  '99999999999999999999',
  '0000-01-01',
  '9999-12-31',
  '2026-02-30',
  true,
  [],
  {},
  'not-a-uuid',
  'tlp:unclear',
  'a\u0000b',
  '\ud800',
  `https://evil.example/${'\u6f22'.repeat(2000)}`,
  'x|y|z',
];

const oddValue = fc.oneof(fc.constantFrom(...ODD_VALUES), fc.jsonValue({ maxDepth: 2 }));

function mutate(root: unknown, path: Path, replacement: { value: unknown } | 'delete'): unknown {
  if (path.length === 0) return replacement === 'delete' ? undefined : replacement.value;
  let holder = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    const next = holder[key];
    if (typeof next !== 'object' || next === null) return root;
    holder = next as Record<string | number, unknown>;
  }
  const last = path.at(-1)!;
  if (replacement !== 'delete') holder[last] = replacement.value;
  else if (Array.isArray(holder)) holder.splice(last as number, 1);
  else delete holder[last];
  return root;
}

const mutations = fc.array(
  fc.record({
    at: fc.nat(),
    change: fc.oneof(
      fc.constant<'delete'>('delete'),
      oddValue.map((value) => ({ value })),
    ),
  }),
  { minLength: 1, maxLength: 4 },
);

function broken(value: unknown, changes: { at: number; change: { value: unknown } | 'delete' }[]): unknown {
  for (const { at, change } of changes) {
    const paths = pathsOf(value);
    value = mutate(value, paths.length === 0 ? [] : paths[at % paths.length]!, change);
  }
  return value;
}

function expectAnswered(result: MispImportResult): void {
  if (!result.ok) {
    expect(result.error.field.length).toBeGreaterThan(0);
    expect(result.error.message.length).toBeGreaterThan(0);
    return;
  }
  if (result.report.status === 'ready') {
    expect(result.report.submissions[0]!.id).toBeDefined();
    expect(reportSubmissionSchema.safeParse(result.report.submissions[0]!).error).toBeUndefined();
    reportSchema.parse(result.report.submissions[0]!);
  }
}

describe('importMispEvent on malformed input', { timeout: 60_000 }, () => {
  it('the rich event itself imports', () => {
    const result = importMispEvent(richEvent(), options);
    expect(result.ok && result.report.status).toBe('ready');
  });

  it('answers the event with any one field missing or set to each odd value', () => {
    const paths = pathsOf(richEvent());
    for (const path of paths) {
      for (const change of ['delete' as const, ...ODD_VALUES.map((value) => ({ value }))]) {
        const input = mutate(richEvent(), path, change);
        expectAnswered(importMispEvent(input, options));
      }
    }
    expect(paths.length).toBeGreaterThan(40);
  });

  it('answers every mutation of a rich event with a named refusal or a valid report, never a throw', () => {
    fc.assert(
      fc.property(mutations, (changes) => {
        const input = broken(richEvent(), changes);
        expectAnswered(importMispEvent(input, options));
        expectAnswered(importMispEvent(JSON.stringify(input) ?? 'undefined', options));
      }),
      { numRuns: 500 },
    );
  });

  it('answers every mutation of the vendor examples likewise', () => {
    const names = ['circl_xorist_ransomware_57c4445b.json', 'ursnif_with_sightings.json'];
    fc.assert(
      fc.property(fc.constantFrom(...names), mutations, (name, changes) => {
        expectAnswered(importMispEvent(broken(vendor(name), changes), options));
      }),
      { numRuns: 300 },
    );
  });

  it('answers any JSON value at all, in an event or alone', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        expectAnswered(importMispEvent(input, options));
        expectAnswered(importMispEvent({ Event: input }, options));
      }),
      { numRuns: 500 },
    );
  });
});
