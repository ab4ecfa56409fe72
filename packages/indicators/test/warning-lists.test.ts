import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  canonicalIndicator,
  compileWarningLists,
  parseWarningList,
  SHIPPED_WARNING_LISTS_DIR,
  type CanonicalIndicator,
  type IndicatorType,
  type WarningList,
} from '../src/index.js';

function shippedLists(): WarningList[] {
  return readdirSync(SHIPPED_WARNING_LISTS_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) =>
      parseWarningList(JSON.parse(readFileSync(new URL(file, SHIPPED_WARNING_LISTS_DIR), 'utf8')), file),
    );
}

const shipped = compileWarningLists(shippedLists());

function canonical(type: IndicatorType, written: string): CanonicalIndicator {
  const result = canonicalIndicator(type, written);
  if (!result.ok) throw new Error(result.reason);
  return result.indicator;
}

describe('the shipped warning lists', () => {
  it('load, each with its entries', () => {
    expect(shipped.lists.length).toBe(15);
    expect(
      shipped.lists.find((list) => list.name === 'List of known IPv4 public DNS resolvers')?.entries,
    ).toBe(62745);
  });

  it.each([
    ['ipv4', '8.8.8.8', 'List of known IPv4 public DNS resolvers'],
    ['ipv4', '10.20.30.40', 'List of RFC 1918 CIDR blocks'],
    ['ipv4', '198.51.100.23', 'List of RFC 5735 CIDR blocks'],
    ['ipv4', '100.64.1.1', 'List of RFC 6598 CIDR blocks'],
    ['ipv4', '104.16.0.1', 'List of known Cloudflare IP ranges'],
    ['ipv6', '2001:4860:4860::8888', 'List of known IPv6 public DNS resolvers'],
    ['domain', 'google.com', 'Top 1000 websites from Cisco Umbrella'],
    ['domain', 'bit.ly', 'List of known URL Shorteners domains'],
    ['domain', 'a.b.bit.ly', 'List of known URL Shorteners domains'],
    [
      'domain',
      'files.virustotal.com',
      'List of known domains used by automated malware analysis services & security vendors',
    ],
    ['url', 'https://bit.ly/3xYz', 'List of known URL Shorteners domains'],
    [
      'url',
      'https://www.virustotal.com/gui/file/x',
      'List of known domains used by automated malware analysis services & security vendors',
    ],
    ['email', 'abuse@provider.example', 'Common contact e-mail addresses'],
    // Also on the empty-hashes list; the first list in file-name order names the suppression.
    [
      'md5',
      'd41d8cd98f00b204e9800998ecf8427e',
      'List of known hashes with common false-positives (based on Florian Roth input list)',
    ],
    [
      'sha1',
      'da39a3ee5e6b4b0d3255bfef95601890afd80709',
      'List of known hashes with common false-positives (based on Florian Roth input list)',
    ],
    ['md5', '44d88612fea8a8f36de82e1278abb02f', 'List of hashes for EICAR test virus'],
  ] as [IndicatorType, string, string][])('suppress %s %s (%s)', (type, value, list) => {
    expect(shipped.match(canonical(type, value))).toBe(list);
  });

  it('still suppresses a bare TLD carried from before single-label domains were refused', () => {
    expect(shipped.match({ type: 'domain', value: 'com' })).toBe('TLDs as known by IANA');
  });

  it.each([
    ['ipv4', '45.33.32.156'],
    ['ipv6', '2001:db8::1'],
    ['domain', 'update-check.example'],
    ['domain', 'notbit.ly.evil.example'],
    ['domain', 'google.com.evil.example'],
    ['url', 'https://evil.example/bit.ly'],
    ['email', 'ceo@evil.example'],
    ['md5', 'c4ca4238a0b923820dcc509a6f75849b'],
    ['cve', 'CVE-2024-3400'],
  ] as [IndicatorType, string][])('leave %s %s alone', (type, value) => {
    expect(shipped.match(canonical(type, value))).toBeUndefined();
  });
});

describe('compileWarningLists', () => {
  const list = (overrides: Partial<WarningList>): WarningList => ({
    name: 'test list',
    type: 'string',
    matching_attributes: ['domain', 'ip-dst', 'url', 'md5'],
    list: [],
    ...overrides,
  });

  it('reads a bare address in a CIDR list as /32 or /128 and matches blocks by containment', () => {
    const matcher = compileWarningLists([
      list({ type: 'cidr', list: ['192.0.2.10', '203.0.113.0/25', '2001:db8:1::/48', '2001:db8::5'] }),
    ]);
    expect(matcher.match({ type: 'ipv4', value: '192.0.2.10' })).toBe('test list');
    expect(matcher.match({ type: 'ipv4', value: '192.0.2.11' })).toBeUndefined();
    expect(matcher.match({ type: 'ipv4', value: '203.0.113.127' })).toBe('test list');
    expect(matcher.match({ type: 'ipv4', value: '203.0.113.128' })).toBeUndefined();
    expect(matcher.match({ type: 'ipv6', value: '2001:db8:1:ffff::1' })).toBe('test list');
    expect(matcher.match({ type: 'ipv6', value: '2001:db8::5' })).toBe('test list');
    expect(matcher.match({ type: 'ipv6', value: '2001:db8::6' })).toBeUndefined();
    expect(matcher.match({ type: 'url', value: 'http://203.0.113.5/x' })).toBe('test list');
  });

  it('applies a list only to the indicator types its attributes name', () => {
    const matcher = compileWarningLists([list({ matching_attributes: ['md5'], list: ['evil.example'] })]);
    expect(matcher.match({ type: 'domain', value: 'evil.example' })).toBeUndefined();
  });

  it('matches string lists without case and hostname lists on subdomains only at label boundaries', () => {
    const matcher = compileWarningLists([
      list({ name: 'exact', list: ['EXAMPLE.ORG'] }),
      list({ name: 'hosts', type: 'hostname', list: ['short.example'] }),
    ]);
    expect(matcher.match({ type: 'domain', value: 'example.org' })).toBe('exact');
    expect(matcher.match({ type: 'domain', value: 'www.example.org' })).toBeUndefined();
    expect(matcher.match({ type: 'domain', value: 'x.short.example' })).toBe('hosts');
    expect(matcher.match({ type: 'domain', value: 'notshort.example' })).toBeUndefined();
    expect(matcher.match({ type: 'url', value: 'https://example.org/a' })).toBe('exact');
  });

  it('refuses a list it could not honour, naming it', () => {
    expect(() =>
      parseWarningList({ name: 'x', type: 'fuzzy', list: [], matching_attributes: [] }, 'x.json'),
    ).toThrow('warning list x.json: unsupported "type"');
    expect(() => compileWarningLists([list({ type: 'regex', list: ['/a(?<=b)c/x'] })])).toThrow(
      'unsupported regex flags',
    );
    expect(() => compileWarningLists([list({ type: 'cidr', list: ['not-an-address'] })])).toThrow(
      'not an address or CIDR block',
    );
  });
});
