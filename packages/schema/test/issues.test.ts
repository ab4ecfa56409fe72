import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeIssues, fieldIssues, formatPath } from '@renkei/schema';

describe('formatPath', () => {
  it.each([
    [[], '(body)'],
    [['title'], 'title'],
    [['indicators', 3, 'value'], 'indicators[3].value'],
    [['report', 'indicators', 0, 'type'], 'report.indicators[0].type'],
    [[0], '[0]'],
    [[0, 'a'], '[0].a'],
    [['matrix', 1, 2], 'matrix[1][2]'],
  ] as [PropertyKey[], string][])('%j → %s', (path, expected) => {
    expect(formatPath(path)).toBe(expected);
  });

  it('renders symbols by their description', () => {
    expect(formatPath([Symbol('s')])).toBe('Symbol(s)');
  });
});

describe('fieldIssues', () => {
  const schema = z.strictObject({
    name: z.string().min(1),
    items: z.array(z.strictObject({ value: z.string() })),
  });

  function issuesOf(input: unknown) {
    const result = schema.safeParse(input);
    if (result.success) throw new Error('expected a failure');
    return fieldIssues(result.error);
  }

  it('names each unknown key as its own field', () => {
    expect(issuesOf({ name: 'x', items: [], organisationId: 'acme', sector: 'finance' })).toEqual([
      { field: 'organisationId', message: 'is not a known field' },
      { field: 'sector', message: 'is not a known field' },
    ]);
  });

  it('names unknown keys inside nested arrays with their full path', () => {
    expect(issuesOf({ name: 'x', items: [{ value: 'a' }, { value: 'b', extra: true }] })).toEqual([
      { field: 'items[1].extra', message: 'is not a known field' },
    ]);
  });

  it('keeps the message of ordinary issues', () => {
    const issues = issuesOf({ name: '', items: [{ value: 1 }] });
    expect(issues.map((i) => i.field)).toEqual(['name', 'items[0].value']);
    for (const issue of issues) expect(issue.message.length).toBeGreaterThan(0);
  });

  it('uses (body) for a root-level problem', () => {
    expect(issuesOf('nope').map((i) => i.field)).toEqual(['(body)']);
  });
});

describe('describeIssues', () => {
  it('joins field: message pairs with semicolons', () => {
    expect(
      describeIssues([
        { field: 'title', message: 'too long' },
        { field: 'indicators[0].value', message: 'a md5 must be 32 hexadecimal digits' },
      ]),
    ).toBe('title: too long; indicators[0].value: a md5 must be 32 hexadecimal digits');
  });

  it('is empty for no issues', () => {
    expect(describeIssues([])).toBe('');
  });
});
