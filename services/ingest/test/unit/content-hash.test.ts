import { describe, expect, it } from 'vitest';
import { canonicalJson, contentSha256 } from '../../src/content-hash.js';

describe('canonicalJson', () => {
  it('sorts object keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
  });

  it('gives the same text whatever the key order', () => {
    const one = { title: 'x', tlp: 'GREEN', indicators: [{ type: 'ipv4', value: '192.0.2.1' }] };
    const other = { indicators: [{ value: '192.0.2.1', type: 'ipv4' }], tlp: 'GREEN', title: 'x' };
    expect(canonicalJson(one)).toBe(canonicalJson(other));
  });

  it('gives the same text whatever the spacing of the JSON it came from', () => {
    const compact = JSON.parse('{"a":1,"b":[1,2,{"c":"d"}]}') as unknown;
    const spaced = JSON.parse('{\n  "b" : [ 1 , 2 , { "c" : "d" } ] ,\n\t"a" : 1\n}') as unknown;
    expect(canonicalJson(compact)).toBe(canonicalJson(spaced));
  });

  it('has no whitespace of its own', () => {
    expect(canonicalJson({ a: [1, { b: 'x y' }], c: null })).toBe('{"a":[1,{"b":"x y"}],"c":null}');
  });

  it('keeps the order of arrays, and sorts objects inside them', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson({ list: [{ z: 1, y: 2 }, 'b', 'a'] })).toBe('{"list":[{"y":2,"z":1},"b","a"]}');
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it('drops properties whose value is undefined, at every depth', () => {
    expect(canonicalJson({ a: 1, b: undefined, c: { d: undefined, e: 2 } })).toBe('{"a":1,"c":{"e":2}}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('keeps null values', () => {
    expect(canonicalJson({ a: null })).toBe('{"a":null}');
    expect(canonicalJson({ a: null })).not.toBe(canonicalJson({}));
  });

  it('passes scalars through as JSON', () => {
    expect(canonicalJson('text')).toBe('"text"');
    expect(canonicalJson(42)).toBe('42');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(null)).toBe('null');
  });

  it('is valid JSON that parses back to an equal value', () => {
    const value = { z: [1, 'two', { three: 3 }], a: { nested: { deep: true } }, m: 'ü — ✓' };
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });
});

describe('contentSha256', () => {
  it('is 64 lower-case hex digits', () => {
    expect(contentSha256({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
    expect(contentSha256([])).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the sha256 of the canonical JSON', () => {
    // sha256 of the UTF-8 text {"a":1}
    expect(contentSha256({ a: 1 })).toBe('015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
  });

  it('is the same for equal values written differently', () => {
    const one = JSON.parse('{"id":"r-1","tags":["a","b"],"meta":{"x":1,"y":2}}') as unknown;
    const other = JSON.parse(
      '{ "meta": { "y": 2, "x": 1 },\n "tags": [ "a", "b" ], "id": "r-1" }',
    ) as unknown;
    expect(contentSha256(one)).toBe(contentSha256(other));
  });

  it('ignores undefined properties', () => {
    expect(contentSha256({ a: 1, b: undefined })).toBe(contentSha256({ a: 1 }));
  });

  it('differs when a value differs', () => {
    const base = contentSha256({ a: 1, b: ['x', 'y'] });
    expect(contentSha256({ a: 2, b: ['x', 'y'] })).not.toBe(base);
    expect(contentSha256({ a: '1', b: ['x', 'y'] })).not.toBe(base);
    expect(contentSha256({ a: 1, b: ['y', 'x'] })).not.toBe(base);
    expect(contentSha256({ a: 1, b: ['x', 'y'], c: null })).not.toBe(base);
    expect(contentSha256({ a: 1, c: ['x', 'y'] })).not.toBe(base);
  });
});
