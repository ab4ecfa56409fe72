import { describe, expect, it } from 'vitest';
import { isRenkeiError } from '@renkei/runtime';
import {
  findUnstorableText,
  MAX_JSON_DEPTH,
  parseJsonText,
  scanJsonText,
  structureError,
  type JsonStructureFinding,
} from '@renkei/http';

function nestedArrays(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

function nestedObjects(depth: number): string {
  return '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
}

function fieldOf(finding: JsonStructureFinding | undefined) {
  expect(finding).toBeDefined();
  const error = structureError(finding!);
  const fields = error.details?.fields as { field: string; message: string }[];
  expect(error.code).toBe('RENKEI_INVALID_REQUEST');
  expect(fields).toHaveLength(1);
  return fields[0]!;
}

describe('scanJsonText: what passes', () => {
  it.each([
    ['a number', '1'],
    ['a string', '"x"'],
    ['null', 'null'],
    ['an empty object', '{}'],
    ['an empty array', '[]'],
    ['a flat object', '{"a":1,"b":"two","c":null,"d":true,"e":[1,2,3]}'],
    ['whitespace everywhere', ' {\n "a" : [ 1 , { "b" : 2 } ] ,\t"c" : {} } '],
    ['the same key in sibling objects', '[{"a":1},{"a":2},{"a":{"a":{"a":3}}}]'],
    ['the same key at different depths', '{"a":{"a":{"a":1}}}'],
    ['a key repeated as a value', '{"a":"a","b":"a"}'],
    ['keys that differ only in case', '{"tlp":1,"TLP":2,"Tlp":3}'],
    ['keys that look alike in other scripts', '{"a":1,"а":2}'],
    ['an escaped quote inside a key', String.raw`{"a\"b":1,"a":2,"b":3}`],
    ['a backslash ending a key', String.raw`{"a\\":1,"a":2}`],
    ['structural characters inside strings', '{"[{,":"}],{[","x":"\\"[["}'],
    ['a key named like a reserved one but longer', '{"__proto__x":1,"constructors":2,"prototype_":3}'],
    ['reserved names as values', '{"a":"__proto__","b":["constructor","prototype"]}'],
    ['unicode keys', '{"名前":1,"😀":2,"\\u00e9":3,"e\\u0301":4}'],
    ['an empty key once', '{"":1}'],
  ])('%s', (_name, text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(scanJsonText(text)).toBeUndefined();
  });

  it(`accepts nesting exactly ${MAX_JSON_DEPTH} deep, of arrays, objects and a mix`, () => {
    expect(scanJsonText(nestedArrays(MAX_JSON_DEPTH))).toBeUndefined();
    expect(scanJsonText(nestedObjects(MAX_JSON_DEPTH))).toBeUndefined();
    const mixed = '[{"a":'.repeat(MAX_JSON_DEPTH / 2) + '1' + '}]'.repeat(MAX_JSON_DEPTH / 2);
    expect(scanJsonText(mixed)).toBeUndefined();
  });

  it('counts depth, not containers: many wide siblings at the limit pass', () => {
    const deep = nestedArrays(MAX_JSON_DEPTH);
    expect(
      scanJsonText(`[${Array.from({ length: 1000 }, () => deep.slice(1, -1)).join(',')}]`),
    ).toBeUndefined();
  });
});

describe('scanJsonText: nesting', () => {
  it(`refuses ${MAX_JSON_DEPTH + 1} nested arrays, naming the depth and the path`, () => {
    const finding = scanJsonText(nestedArrays(MAX_JSON_DEPTH + 1));
    expect(finding).toMatchObject({ kind: 'too-deep', maxDepth: MAX_JSON_DEPTH });
    expect(finding!.path).toEqual(Array.from({ length: MAX_JSON_DEPTH }, () => 0));
    const field = fieldOf(finding);
    expect(field.field).toBe('[0]'.repeat(MAX_JSON_DEPTH));
    expect(field.message).toBe(`is nested deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it('names keys and indexes on the way down', () => {
    const text = '{"x":1,"objects":[0,1,{"deep":[[[9]]]}]}';
    const finding = scanJsonText(text, 4);
    expect(finding).toEqual({ kind: 'too-deep', path: ['objects', 2, 'deep', 0], maxDepth: 4 });
    expect(fieldOf(finding).field).toBe('objects[2].deep[0]');
  });

  it('refuses deep objects and mixes', () => {
    expect(scanJsonText(nestedObjects(MAX_JSON_DEPTH + 1))).toMatchObject({ kind: 'too-deep' });
    const mixed = '[{"a":'.repeat(40) + '1' + '}]'.repeat(40);
    expect(scanJsonText(mixed)).toMatchObject({ kind: 'too-deep' });
  });

  it('stops at the limit: an unclosed 5,000-level body is refused without reading it all', () => {
    expect(scanJsonText('['.repeat(5_000))).toMatchObject({ kind: 'too-deep' });
  });

  it('takes linear time: half a million levels are scanned in well under two seconds', () => {
    const deep = nestedArrays(500_000);
    const started = performance.now();
    expect(scanJsonText(deep, Number.MAX_SAFE_INTEGER)).toBeUndefined();
    // A quadratic scan would take minutes here; a linear one takes milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('scanJsonText: duplicate keys', () => {
  it('refuses a key given twice, naming it and its path', () => {
    const finding = scanJsonText('{"tlp":"RED","title":"x","tlp":"CLEAR"}');
    expect(finding).toEqual({ kind: 'duplicate-key', key: 'tlp', path: ['tlp'] });
    const field = fieldOf(finding);
    expect(field.field).toBe('tlp');
    expect(field.message).toMatch(/"tlp" appears more than once/);
  });

  it('finds duplicates at depth, after arrays and nested objects', () => {
    const text = '{"a":[1,{"b":{"c":1}},{"x":[],"sectors":["gas"],"y":{"z":1},"sectors":"all"}]}';
    expect(scanJsonText(text)).toEqual({ kind: 'duplicate-key', key: 'sectors', path: ['a', 2, 'sectors'] });
    expect(fieldOf(scanJsonText(text)).field).toBe('a[2].sectors');
  });

  it('finds a duplicate spelled with escapes', () => {
    expect(scanJsonText(String.raw`{"tlp":1,"\u0074lp":2}`)).toMatchObject({
      kind: 'duplicate-key',
      key: 'tlp',
    });
    expect(scanJsonText(String.raw`{"a\"b":1,"a\u0022b":2}`)).toMatchObject({
      kind: 'duplicate-key',
      key: 'a"b',
    });
    expect(scanJsonText(String.raw`{"\/":1,"/":2}`)).toMatchObject({ kind: 'duplicate-key', key: '/' });
    expect(scanJsonText(String.raw`{"é":1,"\u00e9":2}`)).toMatchObject({ kind: 'duplicate-key', key: 'é' });
    expect(scanJsonText(String.raw`{"😀":1,"\ud83d\ude00":2}`)).toMatchObject({
      kind: 'duplicate-key',
      key: '😀',
    });
  });

  it('finds the empty key twice, and a duplicate after whitespace', () => {
    expect(scanJsonText('{"":1,"":2}')).toMatchObject({ kind: 'duplicate-key', key: '' });
    expect(scanJsonText('{ "a" : 1 ,\n  "a" : 2 }')).toMatchObject({ kind: 'duplicate-key', key: 'a' });
  });

  it('does not take values for keys', () => {
    expect(scanJsonText('{"a":"b","b":"a"}')).toBeUndefined();
    expect(scanJsonText('{"a":["a","a"],"b":{"a":"a"}}')).toBeUndefined();
  });

  it('keeps long and unprintable keys short and storable in the message', () => {
    const long = 'k'.repeat(5_000);
    const message = fieldOf(scanJsonText(`{"${long}":1,"${long}":2}`)).message;
    expect(message.length).toBeLessThan(300);
    const nul = fieldOf(scanJsonText(String.raw`{"a\u0000":1,"a\u0000":2}`));
    expect(nul.field).toBe('a?');
  });
});

describe('scanJsonText: reserved keys', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('refuses %s anywhere, saying why', (key) => {
    for (const text of [`{"${key}":{}}`, `{"a":[{"b":1,"${key}":1}]}`]) {
      const finding = scanJsonText(text);
      expect(finding).toMatchObject({ kind: 'reserved-key', key });
      const field = fieldOf(finding);
      expect(field.field.endsWith(key)).toBe(true);
      expect(field.message).toContain(`"${key}" is not accepted`);
      expect(field.message).toContain('reserved');
    }
  });

  it('sees through escapes', () => {
    expect(scanJsonText(String.raw`{"\u005f_proto__":{"isAdmin":true}}`)).toMatchObject({
      kind: 'reserved-key',
      key: '__proto__',
    });
  });
});

describe('scanJsonText: text that is not JSON', () => {
  it.each(['', '{', '}', ']]]', '{"a', '{"a":1', '{"a" "a"}', '[1,,2]', ',,,', '"\\', '{"a\\', '{"\\u12"}'])(
    'does not throw on %j (the parse reports the syntax)',
    (text) => {
      expect(() => scanJsonText(text)).not.toThrow();
    },
  );

  it('does not take a string after a missing comma for a key', () => {
    expect(scanJsonText('{"a":1 "a":2}')).toBeUndefined();
  });
});

describe('findUnstorableText', () => {
  it('names the path of a NUL or a lone surrogate, in a value or a key', () => {
    expect(findUnstorableText({ a: [1, { b: 'x\u0000' }] })).toBe('a[1].b');
    expect(findUnstorableText({ a: { '\uD800k': 1 } })).toBe('a.?k');
    expect(findUnstorableText(['ok', '\uDC00'])).toBe('[1]');
    expect(findUnstorableText('\u0000')).toBe('(body)');
    expect(findUnstorableText({ a: ['ok', { b: '😀' }] })).toBeUndefined();
  });

  it('keeps one path, not a copy per level: 5,000 levels are walked in milliseconds', () => {
    let value: unknown = 'leaf\u0000';
    for (let depth = 0; depth < 5_000; depth += 1) value = [value];
    const started = performance.now();
    expect(findUnstorableText(value)).toBe('[0]'.repeat(5_000));
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('parseJsonText', () => {
  it('parses what passes and throws the same 400s as a body', () => {
    expect(parseJsonText('{"a":[1]}')).toEqual({ a: [1] });
    for (const text of ['{"a":1,"a":2}', nestedArrays(100), '{"__proto__":1}', '{"a":"\\u0000"}', '{']) {
      let thrown: unknown;
      try {
        parseJsonText(text);
      } catch (error) {
        thrown = error;
      }
      expect(isRenkeiError(thrown) && thrown.code === 'RENKEI_INVALID_REQUEST').toBe(true);
    }
  });
});
