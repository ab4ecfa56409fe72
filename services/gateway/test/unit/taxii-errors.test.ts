import { describe, expect, it } from 'vitest';
import { taxiiErrorSchema, taxiiStatusSchema, type ImportAnswer } from '@renkei/schema';
import { taxiiErrorFrom } from '../../src/taxii/errors.js';
import { statusFromImport, statusFromRefusal, withPendings } from '../../src/taxii/status.js';

describe('TAXII error resources', () => {
  it.each([400, 401, 403, 404, 405, 406, 408, 413, 415, 422, 429, 431, 500, 503])(
    'makes a valid error resource of the hub error for %i',
    (status) => {
      const error = taxiiErrorFrom(status, {
        code: 'RENKEI_SOMETHING',
        message: 'why',
        fields: [{ field: 'added_after', message: 'is not a time' }],
        correlationId: 'abc',
      });
      expect(taxiiErrorSchema.parse(error)).toEqual({
        title: expect.any(String),
        description: 'why',
        error_id: 'abc',
        error_code: 'RENKEI_SOMETHING',
        http_status: String(status),
        details: { fields: [{ field: 'added_after', message: 'is not a time' }] },
      });
    },
  );

  it('still gives a valid resource for a body that is not the hub error', () => {
    expect(taxiiErrorSchema.parse(taxiiErrorFrom(404, undefined))).toEqual({
      title: 'Not Found',
      http_status: '404',
    });
  });

  it('rejects what is not an error resource', () => {
    expect(taxiiErrorSchema.safeParse({ code: 'RENKEI_NOT_FOUND', message: 'no' }).success).toBe(false);
    expect(taxiiErrorSchema.safeParse({ title: 'x', http_status: 404 }).success).toBe(false);
  });
});

describe('TAXII status resources', () => {
  const answer: ImportAnswer = {
    format: 'stix-2.1',
    sourceId: null,
    reports: [
      {
        source: { type: 'bundle', id: null },
        status: 'accepted',
        id: null,
        tlp: 'GREEN',
        indicators: 1,
        notes: [],
      },
    ],
    items: [
      {
        position: 'objects[0]',
        id: 'indicator--1',
        type: 'indicator',
        status: 'mapped',
        reports: [0],
        indicators: 1,
      },
      {
        position: 'objects[1]',
        id: 'x',
        type: 'x',
        status: 'unmapped',
        reason: { code: 'unsupported-type', message: 'no' },
      },
    ],
    summary: { items: 2, mapped: 1, context: 0, unmapped: 1, reportsAccepted: 1, reportsRefused: 0 },
  };

  it('has every required field and counts that match its lists', () => {
    const status = taxiiStatusSchema.parse(statusFromImport(answer, '2026-01-01T00:00:00.000Z'));
    expect(status).toMatchObject({
      total_count: 2,
      success_count: 1,
      failure_count: 1,
      pending_count: 0,
      pendings: [],
    });
    const refused = taxiiStatusSchema.parse(
      statusFromRefusal([{}, {}], { message: 'no', fields: [] }, '2026-01-01T00:00:00.000Z'),
    );
    expect(refused).toMatchObject({ total_count: 2, failure_count: 2, pendings: [] });
  });

  it('adds pendings to a status stored before it was written', () => {
    const { pendings: _, ...old } = statusFromImport(answer, '2026-01-01T00:00:00.000Z');
    expect(taxiiStatusSchema.parse(withPendings(old)).pendings).toEqual([]);
  });

  it('refuses counts that do not add up', () => {
    const status = statusFromImport(answer, '2026-01-01T00:00:00.000Z');
    expect(taxiiStatusSchema.safeParse({ ...status, success_count: 2 }).success).toBe(false);
  });
});
