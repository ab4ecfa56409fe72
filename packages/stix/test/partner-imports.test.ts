import { describe, expect, it } from 'vitest';
import { MAX_INDICATORS_PER_REPORT, reportSubmissionSchema } from '@renkei/schema';
import { importStixBundle, type StixImportOptions } from '@renkei/stix';
import { RECEIVED_AT, bundle, indicator, marking, ok, sdo, uuid } from './support.js';

const ids = (scope: string) => ({ key: Buffer.alloc(32, 3), scope });
const options = (scope = 'org-a'): StixImportOptions => ({ receivedAt: RECEIVED_AT, ids: ids(scope) });
const ready = (result: ReturnType<typeof importStixBundle>) =>
  ok(result).reports.map((report) => {
    if (report.status !== 'ready') throw new Error(`refused: ${report.reason.message}`);
    return report.submission;
  });

const container = (modified: string, refs: string[]) =>
  sdo('report', 1, {
    ...marking('GREEN'),
    name: 'Partner report',
    published: '2025-01-01T00:00:00.000Z',
    modified,
    object_refs: refs,
  });

describe('importStixBundle: one report per source object', () => {
  it('names a container by its own id and version, never the bundle id', () => {
    const objects = [
      container('2025-01-02T00:00:00.000Z', [`indicator--${uuid(2)}`]),
      indicator(2, "[domain-name:value = 'a.example']"),
    ];
    const first = ready(importStixBundle({ ...bundle(...objects), id: `bundle--${uuid(7)}` }, options()));
    const second = ready(importStixBundle({ ...bundle(...objects), id: `bundle--${uuid(8)}` }, options()));
    expect(second[0]!.id).toBe(first[0]!.id);
    expect(second[0]!.source).toEqual(first[0]!.source);
    expect(first[0]!.source).toMatchObject({ version: '2025-01-02T00:00:00.000Z', part: 1, parts: 1 });

    // A later modified is a new version of the same source.
    const edited = ready(
      importStixBundle(
        bundle(container('2025-02-01T00:00:00.000Z', [`indicator--${uuid(2)}`]), objects[1]),
        options(),
      ),
    );
    expect(edited[0]!.id).not.toBe(first[0]!.id);
    expect(edited[0]!.source!.id).toBe(first[0]!.source!.id);

    // Another organisation names its own report and source.
    const other = ready(importStixBundle(bundle(...objects), options('org-b')));
    expect(other[0]!.id).not.toBe(first[0]!.id);
    expect(other[0]!.source!.id).not.toBe(first[0]!.source!.id);
  });

  it('names a bundle without container by the objects it maps', () => {
    const objects = [indicator(2, "[domain-name:value = 'a.example']", marking('GREEN'))];
    const first = ready(importStixBundle({ ...bundle(...objects), id: `bundle--${uuid(7)}` }, options()));
    const second = ready(importStixBundle({ ...bundle(...objects), id: `bundle--${uuid(8)}` }, options()));
    expect(second[0]!.id).toBe(first[0]!.id);
  });
});

describe('importStixBundle: no silent cap', () => {
  it('splits 2,500 indicators into three linked parts, every object mapped into the part holding it', () => {
    const refs = Array.from({ length: 2_500 }, (_, i) => `indicator--${uuid(100 + i)}`);
    const indicators = refs.map((_, i) => indicator(100 + i, `[domain-name:value = 'h${i}.split.example']`));
    const result = importStixBundle(
      bundle(container('2025-01-02T00:00:00.000Z', refs), ...indicators),
      options(),
    );
    const parts = ready(result);
    expect(parts.map((p) => p.indicators.length)).toEqual([
      MAX_INDICATORS_PER_REPORT,
      MAX_INDICATORS_PER_REPORT,
      500,
    ]);
    expect(parts.map((p) => [p.source!.part, p.source!.parts])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(new Set(parts.map((p) => p.source!.id)).size).toBe(1);
    expect(new Set(parts.map((p) => p.id)).size).toBe(3);
    expect(parts.map((p) => p.title)).toEqual([
      'Partner report (part 1 of 3)',
      'Partner report (part 2 of 3)',
      'Partner report (part 3 of 3)',
    ]);
    for (const part of parts) expect(reportSubmissionSchema.safeParse(part).success).toBe(true);
    const objects = ok(result).objects.filter((o) => o.type === 'indicator');
    expect(objects.every((o) => o.status === 'mapped')).toBe(true);
    expect(objects[0]).toMatchObject({ reports: [0] });
    expect(objects[2_499]).toMatchObject({ reports: [2] });
    // The container went into all of its parts.
    expect(ok(result).objects[0]).toMatchObject({ status: 'mapped', reports: [0, 1, 2] });
  });
});

describe('importStixBundle: context as labels', () => {
  it('keeps the names of threat actors, intrusion sets, malware, campaigns and attack patterns', () => {
    const result = importStixBundle(
      bundle(
        container('2025-01-02T00:00:00.000Z', [
          `indicator--${uuid(2)}`,
          `threat-actor--${uuid(3)}`,
          `intrusion-set--${uuid(4)}`,
          `campaign--${uuid(5)}`,
        ]),
        indicator(2, "[domain-name:value = 'a.example']"),
        sdo('threat-actor', 3, { name: 'APT1' }),
        sdo('intrusion-set', 4, { name: 'Comment Crew' }),
        sdo('campaign', 5, { name: 'Operation X' }),
        sdo('malware', 6, { name: 'Poison Ivy', is_family: true }),
        sdo('attack-pattern', 7, { name: 'Spearphishing' }),
        sdo('relationship', 8, {
          relationship_type: 'indicates',
          source_ref: `indicator--${uuid(2)}`,
          target_ref: `malware--${uuid(6)}`,
        }),
        sdo('relationship', 9, {
          relationship_type: 'uses',
          source_ref: `indicator--${uuid(2)}`,
          target_ref: `attack-pattern--${uuid(7)}`,
        }),
        // Not about this report: no relationship, no reference.
        sdo('threat-actor', 10, { name: 'Unrelated' }),
      ),
      options(),
    );
    expect(ready(result)[0]!.labels).toEqual([
      'threat-actor:APT1',
      'intrusion-set:Comment Crew',
      'campaign:Operation X',
      'malware:Poison Ivy',
      'attack-pattern:Spearphishing',
    ]);
    const threatActor = ok(result).objects.find((o) => o.id === `threat-actor--${uuid(3)}`);
    expect(threatActor).toMatchObject({
      status: 'context',
      detail: 'kept as the label "threat-actor:APT1" of its report',
    });
  });

  it("keeps a container's own labels, but not Renkei's", () => {
    const result = importStixBundle(
      bundle(
        sdo('report', 1, {
          ...marking('GREEN'),
          name: 'Labelled',
          published: '2025-01-01T00:00:00.000Z',
          labels: ['renkei:category=phishing', 'apt', 'threat-actor:APT1'],
          object_refs: [`indicator--${uuid(2)}`],
        }),
        indicator(2, "[domain-name:value = 'a.example']"),
      ),
      options(),
    );
    expect(ready(result)[0]).toMatchObject({ category: 'phishing', labels: ['apt', 'threat-actor:APT1'] });
  });
});

describe('importStixBundle: STIX 2.0', () => {
  it('refuses a 2.0 bundle as a whole, naming spec_version', () => {
    const result = importStixBundle({ ...bundle(), spec_version: '2.0' }, options());
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'unsupported-spec-version', field: 'spec_version' },
    });
  });

  it('refuses an envelope holding a 2.0 object, naming where', () => {
    const result = importStixBundle(
      bundle(indicator(1, "[domain-name:value = 'a.example']", marking('GREEN')), {
        ...indicator(2, "[domain-name:value = 'b.example']", marking('GREEN')),
        spec_version: '2.0',
      }),
      options(),
    );
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'unsupported-spec-version', field: 'objects[1].spec_version' },
    });
  });
  // String() of an object runs its toString: input that makes it throw must still be answered.
  it('quotes a spec_version that is an object instead of throwing, and ignores such refs and types', () => {
    const hostile = { toString: 1e308 };
    const result = importStixBundle({ ...bundle(), spec_version: hostile }, options());
    expect(result).toMatchObject({ ok: false, error: { field: 'spec_version' } });
    expect(() =>
      importStixBundle(
        bundle(
          { ...indicator(1, "[domain-name:value = 'a.example']", marking('GREEN')), object_refs: [hostile] },
          { type: hostile, id: 'x' },
        ),
        options(),
      ),
    ).not.toThrow();
  });
});
