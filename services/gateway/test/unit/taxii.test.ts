import { describe, expect, it } from 'vitest';
import type { ImportAnswer } from '@renkei/schema';
import type { StixObject } from '@renkei/stix';
import { acceptsTaxii, dated, matchList, pageObjects, type DatedObject } from '../../src/taxii/paging.js';
import { statusFromImport, statusFromRefusal } from '../../src/taxii/status.js';
import { collectionId, collectionsFor } from '../../src/taxii/collections.js';

const object = (type: string, n: number, modified = '2026-01-01T00:00:00.000Z'): StixObject => ({
  type,
  id: `${type}--00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`,
  spec_version: '2.1',
  created: '2025-01-01T00:00:00.000Z',
  modified,
});

function fixture(): DatedObject[] {
  const objects = [
    object('indicator', 1),
    object('indicator', 2),
    object('report', 3),
    object('sighting', 4),
  ];
  const added = new Map([
    [objects[0]!.id, '2026-01-02T00:00:00.000Z'],
    [objects[1]!.id, '2026-01-01T00:00:00.000Z'],
    [objects[2]!.id, '2026-01-02T00:00:00.000Z'],
    [objects[3]!.id, '2026-01-03T00:00:00.000Z'],
  ]);
  return dated(objects, added);
}

describe('TAXII paging', () => {
  it('orders by date added, then id, and leaves out objects with no date', () => {
    const all = dated(
      [object('indicator', 9), ...fixture().map((d) => d.object)],
      new Map(fixture().map((d) => [d.object.id, d.dateAdded])),
    );
    expect(all.map((d) => d.object.id.slice(-1))).toEqual(['2', '1', '3', '4']);
  });

  it('pages by next without skipping or repeating', () => {
    const all = fixture();
    const seen: string[] = [];
    let next: string | undefined;
    do {
      const page = pageObjects(all, { limit: 1, next });
      if ('invalidNext' in page) throw new Error('bad next');
      seen.push(...page.items.map((i) => i.object.id));
      next = page.next;
      expect(page.more).toBe(next !== undefined);
    } while (next);
    expect(seen).toEqual(all.map((d) => d.object.id));
    expect(pageObjects(all, { limit: 1, next: 'garbage!' })).toEqual({ invalidNext: true });
    expect(pageObjects(all, { limit: 1, next: Buffer.from('x').toString('base64url') })).toEqual({
      invalidNext: true,
    });
  });

  it('filters by added_after (exclusive), type, id, version and spec version', () => {
    const all = fixture();
    const ids = (query: Parameters<typeof pageObjects>[1]) => {
      const page = pageObjects(all, query);
      if ('invalidNext' in page) throw new Error('bad next');
      return page.items.map((i) => i.object.id.slice(-1));
    };
    expect(ids({ limit: 10, addedAfter: '2026-01-02T00:00:00.000Z' })).toEqual(['4']);
    expect(ids({ limit: 10, types: ['indicator', 'sighting'] })).toEqual(['2', '1', '4']);
    expect(ids({ limit: 10, ids: [all[0]!.object.id] })).toEqual(['2']);
    expect(ids({ limit: 10, versions: ['2026-01-01T00:00:00Z'] })).toEqual(['2', '1', '3', '4']);
    expect(ids({ limit: 10, versions: ['2020-01-01T00:00:00Z'] })).toEqual([]);
    expect(ids({ limit: 10, versions: ['first'] })).toHaveLength(4);
    expect(ids({ limit: 10, specVersions: ['2.0'] })).toEqual([]);
    expect(ids({ limit: 5_000 })).toHaveLength(4);
  });

  it('reads Accept as TAXII 2.1 allows, and match lists', () => {
    expect(acceptsTaxii(undefined)).toBe(true);
    expect(acceptsTaxii('application/taxii+json;version=2.1')).toBe(true);
    expect(acceptsTaxii('application/taxii+json')).toBe(true);
    expect(acceptsTaxii('text/html, */*;q=0.1')).toBe(true);
    expect(acceptsTaxii('application/taxii+json;version=2.0')).toBe(false);
    expect(acceptsTaxii('application/json')).toBe(false);
    expect(matchList(' a, ,b ')).toEqual(['a', 'b']);
    expect(matchList(',')).toBeUndefined();
  });
});

describe('TAXII collections and statuses', () => {
  it('names collections the same on every gateway, and lets only a reporter add to its own', () => {
    expect(collectionId({ kind: 'community' })).toBe(collectionId({ kind: 'community' }));
    expect(collectionId({ kind: 'sector', sector: 'water' })).not.toBe(
      collectionId({ kind: 'sector', sector: 'gas' }),
    );
    const reporter = {
      subject: 's',
      organisationId: 'mlit-csirt',
      sector: 'central-government' as const,
      roles: ['reporter' as const],
    };
    const admin = { ...reporter, roles: ['admin' as const] };
    expect(
      collectionsFor(reporter, { publicWithoutToken: false })
        .filter((c) => c.canWrite)
        .map((c) => c.audience),
    ).toEqual([{ kind: 'organisation', organisationId: 'mlit-csirt' }]);
    expect(collectionsFor(admin, { publicWithoutToken: false }).some((c) => c.canWrite)).toBe(false);
  });

  it('turns an import answer into a complete status, failing objects of refused reports', () => {
    const answer: ImportAnswer = {
      format: 'stix-2.1',
      sourceId: null,
      reports: [
        {
          source: { type: 'report', id: 'report--1' },
          status: 'accepted',
          id: '00000000-0000-4000-8000-000000000001',
          tlp: 'GREEN',
          indicators: 1,
          notes: [],
        },
        {
          source: { type: 'report', id: 'report--2' },
          status: 'refused',
          id: null,
          tlp: null,
          indicators: 0,
          notes: [],
          reason: { code: 'no-tlp-marking', message: 'm' },
        },
      ],
      items: [
        {
          position: 'objects[0]',
          id: 'indicator--a',
          type: 'indicator',
          status: 'mapped',
          reports: [0],
          indicators: 1,
        },
        {
          position: 'objects[1]',
          id: 'indicator--b',
          type: 'indicator',
          status: 'mapped',
          reports: [1],
          indicators: 1,
        },
        {
          position: 'objects[2]',
          id: 'malware--c',
          type: 'malware',
          status: 'unmapped',
          reason: { code: 'unsupported-type', message: 'no' },
        },
        { position: 'objects[3]', id: null, type: null, status: 'context' },
      ],
      summary: { items: 4, mapped: 2, context: 1, unmapped: 1, reportsAccepted: 1, reportsRefused: 1 },
    };
    const status = statusFromImport(answer, '2026-01-01T00:00:00.000Z');
    expect(status).toMatchObject({
      status: 'complete',
      total_count: 4,
      success_count: 2,
      failure_count: 2,
      pending_count: 0,
    });
    expect(status.failures.map((f) => f.id)).toEqual(['indicator--b', 'malware--c']);
    expect(status.successes.map((s) => s.id)).toEqual(['indicator--a', 'objects[3]']);
  });

  it('turns a refused add into a complete status in which every object failed, each with its reason', () => {
    const indicatorId = 'indicator--00000000-0000-4000-8000-000000000001';
    const objects = [{ type: 'indicator', id: indicatorId }, 'not an object', { id: 'x\u0000' }];
    const whole = statusFromRefusal(
      objects,
      { message: 'id: a bundle needs an id', fields: [{ field: 'id', message: 'a bundle needs an id' }] },
      '2026-01-01T00:00:00.000Z',
    );
    expect(whole).toMatchObject({
      status: 'complete',
      total_count: 3,
      success_count: 0,
      failure_count: 3,
      pending_count: 0,
      failures: [
        { id: indicatorId, message: 'id: a bundle needs an id' },
        { id: 'objects[1]', message: 'id: a bundle needs an id' },
        { id: 'objects[2]', message: 'id: a bundle needs an id' },
      ],
    });
    // A 422 names each object's own reason; the rest get the reasons for the whole.
    const each = statusFromRefusal(
      objects,
      {
        message: 'nothing imported',
        fields: [
          { field: 'reports[0]', message: 'no-indicator: nothing maps' },
          { field: 'objects[1]', message: 'invalid-object: not a JSON object' },
        ],
      },
      '2026-01-01T00:00:00.000Z',
    );
    expect(each.failures.map((f) => f.message)).toEqual([
      'reports[0]: no-indicator: nothing maps',
      'invalid-object: not a JSON object',
      'reports[0]: no-indicator: nothing maps',
    ]);
  });
});
