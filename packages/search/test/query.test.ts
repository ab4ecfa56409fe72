import { describe, expect, it } from 'vitest';
import { INDICATOR_TYPES } from '@renkei/indicators';
import { MAX_QUERY_LENGTH, readLookupValue, readQuery, type ReadQuery } from '../src/index.js';

const MD5 = 'D41D8CD98F00B204E9800998ECF8427E';
const SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
const SHA256 = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855';

const indicator = (type: string, value: string) => ({ kind: 'indicator', indicator: { type, value } });

/** [pasted, what it is read as]: every indicator type, plain and as people write them. */
const INDICATORS: [string, ReturnType<typeof indicator>][] = [
  ['203.0.113.7', indicator('ipv4', '203.0.113.7')],
  ['  203[.]0[.]113[.]7 ', indicator('ipv4', '203.0.113.7')],
  ['203(.)0(.)113(.)7', indicator('ipv4', '203.0.113.7')],
  ['203[dot]0[dot]113[dot]7', indicator('ipv4', '203.0.113.7')],
  ['"203.0.113.7"', indicator('ipv4', '203.0.113.7')],
  ['２０３．０．１１３．７', indicator('ipv4', '203.0.113.7')],
  ['::ffff:203.0.113.7', indicator('ipv4', '203.0.113.7')],
  ['::FFFF:CB00:7107', indicator('ipv4', '203.0.113.7')],
  ['2001:DB8:0:0:0:0:0:1', indicator('ipv6', '2001:db8::1')],
  ['[2001:db8::1]', indicator('ipv6', '2001:db8::1')],
  ['Update-Check.Example', indicator('domain', 'update-check.example')],
  ['update-check[.]example', indicator('domain', 'update-check.example')],
  ['update-check.example.', indicator('domain', 'update-check.example')],
  ['例え.テスト', indicator('domain', 'xn--r8jz45g.xn--zckzah')],
  ['ＥＸＡＭＰＬＥ．ｃｏｍ', indicator('domain', 'example.com')],
  ['hxxps://Evil[.]Example/Login?x=1', indicator('url', 'https://evil.example/Login?x=1')],
  ['hxxp[://]evil[.]example:80/a', indicator('url', 'http://evil.example/a')],
  ['HTTPS://EVIL.EXAMPLE', indicator('url', 'https://evil.example/')],
  ['<https://evil.example/x>', indicator('url', 'https://evil.example/x')],
  ['evil[.]example/login', indicator('domain', 'evil.example')],
  ['CEO[at]Evil[.]Example', indicator('email', 'ceo@evil.example')],
  ['mailto:ceo@evil.example', indicator('email', 'ceo@evil.example')],
  [MD5, indicator('md5', MD5.toLowerCase())],
  [SHA1, indicator('sha1', SHA1)],
  [SHA256, indicator('sha256', SHA256.toLowerCase())],
  ['cve-2024-3094', indicator('cve', 'CVE-2024-3094')],
  ['CVE-2021-44228', indicator('cve', 'CVE-2021-44228')],
];

describe('readQuery: indicators as people paste them', () => {
  it.each(INDICATORS)('%s', (pasted, expected) => {
    const read = readQuery(pasted);
    expect(read.ok).toBe(true);
    expect(read.ok && read.query).toMatchObject(expected);
  });

  it('covers every indicator type the hub correlates', () => {
    const types = new Set(INDICATORS.map(([, read]) => read.indicator.type));
    expect([...types].sort()).toEqual([...INDICATOR_TYPES].sort());
  });

  it('says how a value was read when that is not its own type', () => {
    expect(readQuery('evil.example/login')).toMatchObject({
      ok: true,
      query: { readAs: 'url-without-scheme' },
    });
    expect(readQuery('::ffff:203.0.113.7')).toMatchObject({
      ok: true,
      query: { readAs: 'ipv6', indicator: { type: 'ipv4' } },
    });
    expect(readQuery('hxxps://evil[.]example/')).toMatchObject({ ok: true, query: { readAs: 'url' } });
  });
});

describe('readQuery: networks', () => {
  it.each([
    ['203.0.113.0/24', 'ipv4', '203.0.113.0/24'],
    ['203[.]0[.]113[.]0/24', 'ipv4', '203.0.113.0/24'],
    [' 10.0.0.0/8 ', 'ipv4', '10.0.0.0/8'],
    ['2001:DB8::/32', 'ipv6', '2001:db8::/32'],
  ])('%s', (pasted, type, cidr) => {
    expect(readQuery(pasted)).toEqual({ ok: true, query: { kind: 'network', type, cidr } });
  });

  it('refuses a network with host bits set, naming the network meant', () => {
    expect(readQuery('203.0.113.7/24')).toEqual({
      ok: false,
      reason: 'has host bits set: the network is 203.0.113.0/24',
    });
    expect(readQuery('203.0.113.0/33')).toMatchObject({ ok: false });
  });
});

describe('readQuery: free text', () => {
  const text = (pasted: string): ReadQuery | undefined => {
    const read = readQuery(pasted);
    return read.ok ? read.query : undefined;
  };

  it('reads Japanese as text, found anywhere in a title (a substring, not a word)', () => {
    expect(text('標的型')).toEqual({ kind: 'text', text: '標的型', pattern: '%標的型%', scope: 'all' });
    expect(text('  標的型攻撃メール ')).toMatchObject({
      kind: 'text',
      text: '標的型攻撃メール',
      scope: 'all',
    });
  });

  it('reads English and mixed text, with white space folded', () => {
    expect(text('spear  phishing\tagainst\nprocurement')).toMatchObject({
      kind: 'text',
      text: 'spear phishing against procurement',
      pattern: '%spear phishing against procurement%',
      scope: 'all',
    });
    expect(text('Emotet 感染')).toMatchObject({ kind: 'text', scope: 'all' });
  });

  it('searches only the newest rows for text too short for a trigram', () => {
    expect(text('攻撃')).toMatchObject({ kind: 'text', scope: 'recent' });
    expect(text('DB')).toMatchObject({ kind: 'text', scope: 'recent' });
    expect(text('a b c')).toMatchObject({ kind: 'text', scope: 'recent' });
    expect(text('ランサム')).toMatchObject({ kind: 'text', scope: 'all' });
  });

  it('escapes the LIKE wildcards a person types, so they match themselves', () => {
    expect(text('100% _done_ C:\\tmp')).toMatchObject({ pattern: '%100\\% \\_done\\_ C:\\\\tmp%' });
  });

  it('reads what is almost an indicator as text, never guessing', () => {
    for (const pasted of [
      '010.1.1.1',
      '1.2.3',
      'phishing',
      'v1.2',
      '@someone',
      'note: 10:30',
      'CVE-2024',
      'not a hash d41d8cd98f00b204e9800998ecf8427e',
      'd41d8cd98f00b204e9800998ecf8427',
    ]) {
      expect(text(pasted), pasted).toMatchObject({ kind: 'text' });
    }
  });

  it('refuses only what is empty or too long', () => {
    expect(readQuery('   ')).toEqual({ ok: false, reason: 'is empty' });
    expect(readQuery('x'.repeat(MAX_QUERY_LENGTH + 1))).toEqual({
      ok: false,
      reason: `is longer than ${MAX_QUERY_LENGTH} characters`,
    });
    expect(readQuery('x'.repeat(MAX_QUERY_LENGTH)).ok).toBe(true);
  });
});

describe('readLookupValue', () => {
  it('reads each value of mixed types as written', () => {
    expect(readLookupValue('hxxp://bad[.]example/x')).toMatchObject({
      ok: true,
      query: indicator('url', 'http://bad.example/x'),
    });
    expect(readLookupValue('198.51.100.9')).toMatchObject({
      ok: true,
      query: indicator('ipv4', '198.51.100.9'),
    });
  });

  it('says why a value is no indicator', () => {
    expect(readLookupValue('203.0.113.0/24')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('network'),
    });
    expect(readLookupValue('標的型攻撃メール')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not an indicator'),
    });
    expect(readLookupValue('')).toEqual({ ok: false, reason: 'is empty' });
  });
});
