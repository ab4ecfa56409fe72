import { describe, expect, it } from 'vitest';
import {
  addressIndicatorType,
  checkIndicator,
  clip,
  leastRestrictiveTlp,
  mostRestrictiveTlp,
  storableText,
  uniqueIndicators,
} from '@renkei/stix/values';

describe('addressIndicatorType', () => {
  it.each([
    ['198.51.100.1', 'ipv4'],
    [' 198.51.100.1 ', 'ipv4'],
    ['198.51.100[.]1', 'ipv4'],
    ['198(.)51(.)100(.)1', 'ipv4'],
    ['198[dot]51[dot]100[dot]1', 'ipv4'],
    ['2001:db8::1', 'ipv6'],
    ['2001[:]db8[:][:]1', 'ipv6'],
    ['[2001:db8::1]', 'ipv6'],
    ['::ffff:198.51.100.1', 'ipv6'],
    ['fe80::1%eth0', 'ipv6'],
    ['198.51.100.0/24', undefined],
    ['256.1.1.1', undefined],
    ['evil.example', undefined],
    ['', undefined],
  ])('%j is %s', (value, type) => {
    expect(addressIndicatorType(value)).toBe(type);
  });
});

describe('checkIndicator', () => {
  it('trims and passes the report schema', () => {
    expect(checkIndicator('domain', '  Evil.Example ', 'source')).toEqual({
      ok: true,
      indicator: { type: 'domain', value: 'Evil.Example', role: 'source' },
    });
  });

  it.each([
    ['md5', 'abc', 'is not a valid md5: is not a md5 (32 hexadecimal digits)'],
    ['ipv6', '2001:db8::/32', 'is a network range, not an address'],
    ['url', '   ', 'the url value is empty'],
    ['domain', 'a\u0000b', 'is not a valid domain'],
    ['url', `http://x.example/${'a'.repeat(2048)}`, 'is not a valid url'],
  ] as const)('refuses a %s %j', (type, value, reason) => {
    const checked = checkIndicator(type, value);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.reason).toContain(reason);
  });
});

describe('TLP order', () => {
  it('picks the most and the least restrictive', () => {
    expect(mostRestrictiveTlp(['GREEN', undefined, 'AMBER+STRICT', 'AMBER'])).toBe('AMBER+STRICT');
    expect(mostRestrictiveTlp([undefined])).toBeUndefined();
    expect(leastRestrictiveTlp(['RED', 'AMBER', 'CLEAR'])).toBe('CLEAR');
    expect(leastRestrictiveTlp([])).toBeUndefined();
  });
});

describe('text', () => {
  it('cuts with an ellipsis and never splits a surrogate pair', () => {
    expect(clip('abcdef', 6)).toBe('abcdef');
    expect(clip('abcdefg', 6)).toBe('abcde…');
    const cut = clip(`abcd\u{1F600}xyz`, 6);
    expect(cut).toBe('abcd…');
    expect(storableText(cut)).toBe(cut);
  });

  it('replaces NUL and unpaired surrogates, keeps pairs', () => {
    expect(storableText('a\u0000b\uD800c\uDC00d\u{1F600}')).toBe('a\uFFFDb\uFFFDc\uFFFDd\u{1F600}');
  });

  it('keeps the first of repeated indicators', () => {
    expect(
      uniqueIndicators([
        { type: 'domain', value: 'a.example', role: 'one' },
        { type: 'domain', value: 'a.example', role: 'two' },
        { type: 'url', value: 'a.example' },
      ]),
    ).toEqual([
      { type: 'domain', value: 'a.example', role: 'one' },
      { type: 'url', value: 'a.example' },
    ]);
  });
});
