import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, REPOSITORY_ROOT, type ErrorCode } from '@renkei/runtime';

const doc = readFileSync(path.join(REPOSITORY_ROOT, 'docs', 'ERRORS.md'), 'utf8');
const codes = Object.keys(ERROR_CODES) as ErrorCode[];

/** The cells of every Markdown table row in the doc. */
const rows = doc
  .split('\n')
  .filter((line) => line.trim().startsWith('|'))
  .map((line) =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((cell) => cell.trim()),
  );

describe('docs/ERRORS.md', () => {
  it.each(codes)('documents %s in one table row with its status and whether to retry', (code) => {
    const matching = rows.filter((cells) => cells[0]?.replace(/`/g, '') === code);
    expect(matching, `${code} should have exactly one table row`).toHaveLength(1);
    const [, status, retriable] = matching[0]!;
    expect(status).toBe(String(ERROR_CODES[code].status ?? '—'));
    expect(retriable).toBe(ERROR_CODES[code].retriable ? 'yes' : 'no');
  });

  it('names no code that ERROR_CODES lacks', () => {
    const named = new Set(doc.match(/RENKEI_[A-Z_]+/g) ?? []);
    expect(named.size).toBeGreaterThan(0);
    const unknown = [...named].filter((code) => !(code in ERROR_CODES));
    expect(unknown).toEqual([]);
  });
});
