import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStorableText, reportSchema, reportSubmissionSchema } from '@renkei/schema';
import {
  importStixBundle,
  TLP2_MARKING_IDS,
  tlpMarkingDefinition,
  type StixImportResult,
} from '@renkei/stix';
import { RECEIVED_AT, exampleNames, indicator, marking, readExample, sco, sdo, uuid } from './support.js';

/*
 * Malformed bundles never make the importer throw (a 500 on ingest, a 503
 * "retry" for ever through a TAXII add): a valid bundle with every mapped
 * shape is broken at any path, at every level (fields missing, of the wrong
 * type, odd values), and the import must answer: a refusal naming a field,
 * or reports each of which is a valid, named submission.
 */

const ids = { key: Buffer.alloc(32, 3), scope: 'acme-bank' };

function richBundle(): Record<string, unknown> {
  return {
    type: 'bundle',
    id: `bundle--${uuid(999)}`,
    objects: [
      tlpMarkingDefinition('AMBER'),
      {
        ...sdo('marking-definition', 2),
        definition_type: 'statement',
        definition: { statement: 'Copyright' },
      },
      sdo('report', 10, {
        name: 'A report',
        description: 'with a description',
        published: '2025-01-02T00:00:00.000Z',
        labels: ['renkei:category=phishing', 'renkei:severity=high'],
        object_refs: [`indicator--${uuid(1)}`, `observed-data--${uuid(3)}`, `vulnerability--${uuid(6)}`],
        ...marking('GREEN'),
      }),
      sdo('grouping', 11, {
        context: 'suspicious-activity',
        object_refs: [`indicator--${uuid(7)}`, `sighting--${uuid(8)}`],
        object_marking_refs: [TLP2_MARKING_IDS.AMBER],
      }),
      sdo('incident', 12, { name: 'An incident', ...marking('RED') }),
      indicator(1, "[domain-name:value = 'evil.example'] OR [ipv4-addr:value = '198.51.100.1']", {
        ...marking('GREEN'),
        granular_markings: [{ marking_ref: TLP2_MARKING_IDS.AMBER, selectors: ['pattern'] }],
      }),
      sdo('observed-data', 3, {
        first_observed: '2025-01-01T00:00:00.000Z',
        last_observed: '2025-01-01T00:00:00.000Z',
        number_observed: 1,
        object_refs: [`url--${uuid(4)}`, `file--${uuid(5)}`],
      }),
      sco('url', 4, { value: 'https://evil.example/a' }),
      sco('file', 5, { hashes: { 'SHA-256': 'a'.repeat(64), MD5: 'b'.repeat(32) } }),
      sdo('vulnerability', 6, {
        name: 'CVE-2024-3400',
        external_references: [{ source_name: 'cve', external_id: 'CVE-2024-3400' }],
      }),
      indicator(7, "[email-addr:value = 'ceo@evil.example' AND url:value = 'https://x.example']"),
      sdo('sighting', 8, {
        sighting_of_ref: `indicator--${uuid(9)}`,
        first_seen: '2025-01-03T00:00:00.000Z',
      }),
      indicator(9, "[ipv6-addr:value = '2001:db8::1']"),
      sdo('relationship', 13, {
        relationship_type: 'related-to',
        source_ref: `indicator--${uuid(9)}`,
        target_ref: `incident--${uuid(12)}`,
      }),
    ],
  };
}

type Path = (string | number)[];

/** Every path into a JSON value, the root's children first. */
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
  true,
  [],
  {},
  'bundle--nope',
  `indicator--${uuid(1)}`,
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00Z',
  '2025-01-01T00:00:00+23:59',
  'a\u0000b',
  '\ud800',
  "[domain-name:value = '\u0000']",
  "[domain-name:value = 'a.example'] AND [x\u0000:y = '\ud800']",
  '\u0000--00000000-0000-4000-8000-000000000001',
  "[url:value = 'https://\u6f22.example/" + '\u6f22'.repeat(2000) + "']",
  '__proto__',
];

const oddValue = fc.oneof(fc.constantFrom(...ODD_VALUES), fc.jsonValue({ maxDepth: 2 }));

/** Sets or deletes at a path (or, on a list, removes the entry). */
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

const mutation = fc.record({
  at: fc.nat(),
  change: fc.oneof(
    fc.constant<'delete'>('delete'),
    oddValue.map((value) => ({ value })),
  ),
});

function broken(base: () => unknown) {
  return fc.array(mutation, { minLength: 1, maxLength: 4 }).map((mutations) => {
    let value = base();
    for (const { at, change } of mutations) {
      const paths = pathsOf(value);
      value = mutate(value, paths.length === 0 ? [] : paths[at % paths.length]!, change);
    }
    return value;
  });
}

function expectAnswered(result: StixImportResult): void {
  if (!result.ok) {
    expect(result.error.field.length).toBeGreaterThan(0);
    expect(result.error.message.length).toBeGreaterThan(0);
    return;
  }
  for (const report of result.reports) {
    if (report.status !== 'ready') continue;
    // Ingest submits it with this id: an id-less ready report was the 500.
    expect(report.submission.id).toBeDefined();
    expect(reportSubmissionSchema.safeParse(report.submission).error).toBeUndefined();
    reportSchema.parse(report.submission);
  }
  // The answer lists every object once.
  expect(new Set(result.objects.map((o) => o.index)).size).toBe(result.objects.length);
  // A TAXII add stores what the answer says in a jsonb status: no NUL, no lone surrogate.
  const unstorable = textsOf(result).filter((text) => !isStorableText(text));
  expect(unstorable).toEqual([]);
}

function textsOf(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) textsOf(item, into);
  else if (typeof value === 'object' && value !== null)
    for (const item of Object.values(value)) textsOf(item, into);
  return into;
}

describe('importStixBundle on malformed input', { timeout: 60_000 }, () => {
  it('the rich bundle itself imports', () => {
    const result = importStixBundle(richBundle(), { receivedAt: RECEIVED_AT, ids });
    expect(result.ok && result.reports.filter((r) => r.status === 'ready').length).toBeGreaterThan(1);
  });

  it('answers the bundle with any one field missing or set to each odd value', () => {
    const paths = pathsOf(richBundle());
    for (const path of paths) {
      // The long values cost most and are as odd anywhere: the random mutations place them.
      const small = ODD_VALUES.filter((value) => typeof value !== 'string' || value.length < 100);
      for (const change of ['delete' as const, ...small.map((value) => ({ value }))]) {
        const input = mutate(richBundle(), path, change);
        expectAnswered(importStixBundle(input, { receivedAt: RECEIVED_AT, ids }));
      }
    }
    expect(paths.length).toBeGreaterThan(40);
  });

  it('answers every mutation of a rich bundle with a named refusal or valid reports, never a throw', () => {
    fc.assert(
      fc.property(broken(richBundle), (input) => {
        expectAnswered(importStixBundle(input, { receivedAt: RECEIVED_AT, ids }));
        expectAnswered(
          importStixBundle(JSON.stringify(input) ?? 'undefined', { receivedAt: RECEIVED_AT, ids }),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('answers every mutation of the OASIS examples likewise', () => {
    const names = exampleNames();
    fc.assert(
      fc.property(
        fc.nat({ max: names.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (n, mutations) => {
          let value: unknown = readExample(names[n]!);
          for (const { at, change } of mutations) {
            const paths = pathsOf(value);
            value = mutate(value, paths.length === 0 ? [] : paths[at % paths.length]!, change);
          }
          expectAnswered(importStixBundle(value, { receivedAt: RECEIVED_AT, ids }));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('answers any JSON value at all', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        expectAnswered(importStixBundle(input, { receivedAt: RECEIVED_AT, ids }));
      }),
      { numRuns: 500 },
    );
  });
});
