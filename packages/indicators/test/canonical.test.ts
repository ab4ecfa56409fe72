import { describe, expect, it } from 'vitest';
import {
  canonicalCidr,
  canonicalIndicator,
  indicatorKey,
  INDICATOR_TYPES,
  readIndicators,
  type IndicatorType,
} from '../src/index.js';

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** [written type, as written, canonical "type:value" or null when refused]. */
const CASES: [IndicatorType, string, string | null][] = [
  // IPv4: dotted quad only, never octal, hex or shorthand.
  ['ipv4', '203.0.113.7', 'ipv4:203.0.113.7'],
  ['ipv4', ' 203.0.113.7\n', 'ipv4:203.0.113.7'],
  ['ipv4', '203.0.113[.]7', 'ipv4:203.0.113.7'],
  ['ipv4', '203[.]0[.]113[.]7', 'ipv4:203.0.113.7'],
  ['ipv4', '203(.)0(.)113(.)7', 'ipv4:203.0.113.7'],
  ['ipv4', '203{.}0{.}113{.}7', 'ipv4:203.0.113.7'],
  ['ipv4', '203[dot]0[dot]113[dot]7', 'ipv4:203.0.113.7'],
  ['ipv4', '203 [.] 0 [.] 113 [.] 7', 'ipv4:203.0.113.7'],
  ['ipv4', '"203.0.113.7"', 'ipv4:203.0.113.7'],
  ['ipv4', '<203.0.113.7>', 'ipv4:203.0.113.7'],
  ['ipv4', '２０３．０．１１３．７', 'ipv4:203.0.113.7'],
  ['ipv4', '0.0.0.0', 'ipv4:0.0.0.0'],
  ['ipv4', '255.255.255.255', 'ipv4:255.255.255.255'],
  ['ipv4', '::ffff:203.0.113.7', 'ipv4:203.0.113.7'],
  ['ipv4', '010.1.1.1', null],
  ['ipv4', '1.2.3', null],
  ['ipv4', '0x7f.1.1.1', null],
  ['ipv4', '2130706433', null],
  ['ipv4', '256.1.1.1', null],
  ['ipv4', '1.2.3.4.5', null],
  ['ipv4', '1.2.3.4/24', null],
  ['ipv4', '1.2.3.4:443', null],
  ['ipv4', '2001:db8::1', null],
  ['ipv4', 'evil.example', null],
  ['ipv4', '', null],
  // IPv6: RFC 5952 text; the mapped form is the IPv4 observable.
  ['ipv6', '2001:DB8::1', 'ipv6:2001:db8::1'],
  ['ipv6', '2001:0db8:0000:0000:0000:0000:0000:0001', 'ipv6:2001:db8::1'],
  ['ipv6', '2001:db8:0:0:1:0:0:1', 'ipv6:2001:db8::1:0:0:1'],
  ['ipv6', '2001:db8::0:1:0:0:1', 'ipv6:2001:db8::1:0:0:1'],
  ['ipv6', '2001:db8:0:0:0:0:2:1', 'ipv6:2001:db8::2:1'],
  ['ipv6', '2001:db8:0:1:1:1:1:1', 'ipv6:2001:db8:0:1:1:1:1:1'],
  ['ipv6', '[2001:db8::1]', 'ipv6:2001:db8::1'],
  ['ipv6', '2001[:]db8[:][:]1', 'ipv6:2001:db8::1'],
  ['ipv6', '::', 'ipv6:::'],
  ['ipv6', '::1', 'ipv6:::1'],
  ['ipv6', '::ffff:203.0.113.7', 'ipv4:203.0.113.7'],
  ['ipv6', '::FFFF:cb00:7107', 'ipv4:203.0.113.7'],
  ['ipv6', '0:0:0:0:0:ffff:203.0.113.7', 'ipv4:203.0.113.7'],
  ['ipv6', '::1.2.3.4', null],
  ['ipv6', 'fe80::1%eth0', null],
  ['ipv6', '2001:db8::/32', null],
  ['ipv6', '1::2::3', null],
  ['ipv6', '2001:db8::g', null],
  ['ipv6', '1:2:3:4:5:6:7:8:9', null],
  ['ipv6', '203.0.113.7', null],
  // Domains: lower case, punycode, one trailing dot removed, labels checked.
  ['domain', 'Evil.Example.COM', 'domain:evil.example.com'],
  ['domain', 'evil.example.', 'domain:evil.example'],
  ['domain', 'evil[.]example', 'domain:evil.example'],
  ['domain', 'evil(.)example', 'domain:evil.example'],
  ['domain', 'evil{.}example', 'domain:evil.example'],
  ['domain', 'evil[dot]example', 'domain:evil.example'],
  ['domain', 'evil(dot)example', 'domain:evil.example'],
  ['domain', 'evil[DOT]example', 'domain:evil.example'],
  ['domain', "'evil.example'", 'domain:evil.example'],
  ['domain', '「evil.example」', 'domain:evil.example'],
  ['domain', 'Bücher.example', 'domain:xn--bcher-kva.example'],
  ['domain', 'XN--BCHER-KVA.example', 'domain:xn--bcher-kva.example'],
  ['domain', '例え.jp', 'domain:xn--r8jz45g.jp'],
  ['domain', 'evil。example', 'domain:evil.example'],
  ['domain', 'ｅｖｉｌ.example', 'domain:evil.example'],
  ['domain', 'mail_relay.evil.example', 'domain:mail_relay.evil.example'],
  ['domain', 'localhost', null],
  ['domain', 'foo', null],
  ['domain', 'これはメモです', null],
  ['domain', 'evil.example.', 'domain:evil.example'],
  ['domain', 'evil..example', null],
  ['domain', '-evil.example', null],
  ['domain', 'evil-.example', null],
  ['domain', `${'a'.repeat(64)}.example`, null],
  ['domain', `${Array.from({ length: 4 }, () => 'a'.repeat(63)).join('.')}.example`, null],
  ['domain', '*.evil.example', null],
  ['domain', 'evil.example:8080', null],
  ['domain', 'evil example', null],
  ['domain', 'https://evil.example', null],
  ['domain', '1.2.3.4', null],
  ['domain', 'evil.0x10', null],
  ['domain', '%65vil.example', null],
  ['domain', 'xn--zz.example', null],
  ['domain', '.', null],
  // URLs: scheme and host lower case, default port removed, host canonical.
  ['url', 'https://evil.example/x', 'url:https://evil.example/x'],
  ['url', 'hxxps://Evil[.]Example/x', 'url:https://evil.example/x'],
  ['url', 'HXXP://EVIL.example/Path?Q=A', 'url:http://evil.example/Path?Q=A'],
  ['url', 'hxxp[://]evil[.]example/', 'url:http://evil.example/'],
  ['url', 'hxxps[:]//evil[.]example', 'url:https://evil.example/'],
  ['url', 'fxp://files.evil.example/a', 'url:ftp://files.evil.example/a'],
  ['url', 'https://evil.example:443/x', 'url:https://evil.example/x'],
  ['url', 'http://evil.example:80/', 'url:http://evil.example/'],
  ['url', 'http://evil.example:8080/', 'url:http://evil.example:8080/'],
  ['url', 'https://Bücher.example/ä', 'url:https://xn--bcher-kva.example/%C3%A4'],
  ['url', 'http://203.0.113.7/gate.php', 'url:http://203.0.113.7/gate.php'],
  ['url', 'http://[2001:DB8::1]:8080/', 'url:http://[2001:db8::1]:8080/'],
  ['url', 'http://[::ffff:203.0.113.7]/', 'url:http://203.0.113.7/'],
  ['url', 'https://user@evil.example/', 'url:https://user@evil.example/'],
  ['url', 'ldap://Evil.Example:1389/a', 'url:ldap://evil.example:1389/a'],
  ['url', '<https://evil.example/a/../b>', 'url:https://evil.example/b'],
  ['url', 'http://010.1.1.1/', null],
  ['url', 'http://0x7f.1/', null],
  ['url', 'http://2130706433/', null],
  ['url', 'evil.example/path', null],
  ['url', 'https://', null],
  ['url', 'https://evil..example/', null],
  ['url', 'https://evil.example:99999/', null],
  ['url', 'u'.repeat(40), null],
  // E-mail: the domain part canonical (and the local part folded to lower case).
  ['email', 'ceo@evil.example', 'email:ceo@evil.example'],
  ['email', 'CEO@Evil.Example', 'email:ceo@evil.example'],
  ['email', 'ceo[@]evil[.]example', 'email:ceo@evil.example'],
  ['email', 'ceo[at]evil[dot]example', 'email:ceo@evil.example'],
  ['email', 'ceo(at)evil.example', 'email:ceo@evil.example'],
  ['email', '<ceo@evil.example>', 'email:ceo@evil.example'],
  ['email', 'mailto:ceo@evil.example', 'email:ceo@evil.example'],
  ['email', 'first.last+tag@Bücher.example', 'email:first.last+tag@xn--bcher-kva.example'],
  ['email', 'ceo@', null],
  ['email', '@evil.example', null],
  ['email', 'ceo evil@evil.example', null],
  ['email', '"ceo"@evil.example', null],
  ['email', 'ceo..x@evil.example', null],
  ['email', 'ceo@evil_example', 'email:ceo@evil_example'],
  ['email', 'ceo@1.2.3.4', null],
  ['email', 'evil.example', null],
  // Hashes: hex of the right length, lower case.
  ['md5', MD5.toUpperCase(), `md5:${MD5}`],
  ['md5', ` "${MD5}" `, `md5:${MD5}`],
  ['md5', MD5.slice(1), null],
  ['md5', `${MD5.slice(1)}g`, null],
  ['sha1', SHA1.toUpperCase(), `sha1:${SHA1}`],
  ['sha1', MD5, null],
  ['sha256', SHA256.toUpperCase(), `sha256:${SHA256}`],
  ['sha256', `<${SHA256}>`, `sha256:${SHA256}`],
  ['sha256', SHA1, null],
  ['sha256', `${SHA256} extra`, null],
  // CVE ids: upper case, pasted dashes and full-width text folded.
  ['cve', 'CVE-2024-3400', 'cve:CVE-2024-3400'],
  ['cve', ' cve-2021-44228 ', 'cve:CVE-2021-44228'],
  ['cve', 'Cve-2024-123456', 'cve:CVE-2024-123456'],
  ['cve', 'CVE\u20112024\u20133400', 'cve:CVE-2024-3400'],
  ['cve', 'ＣＶＥ－２０２４－３４００', 'cve:CVE-2024-3400'],
  ['cve', 'CVE-2024-123', null],
  ['cve', 'CVE-24-3400', null],
  ['cve', 'CVE2024-3400', null],
  ['cve', 'CVE-1998-0001', null],
];

describe('canonicalIndicator', () => {
  it('has a table of at least 80 cases covering every type, valid and invalid', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(80);
    for (const type of INDICATOR_TYPES) {
      expect(CASES.some(([t, , expected]) => t === type && expected !== null)).toBe(true);
      expect(CASES.some(([t, , expected]) => t === type && expected === null)).toBe(true);
    }
  });

  it.each(CASES)('%s %j → %j', (type, written, expected) => {
    const result = canonicalIndicator(type, written);
    if (expected === null) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
    } else {
      expect(result.ok, result.ok ? '' : result.reason).toBe(true);
      if (result.ok) expect(indicatorKey(result.indicator)).toBe(expected);
    }
  });

  it.each(CASES.filter(([, , expected]) => expected !== null))('is idempotent: %s %j', (type, written) => {
    const once = canonicalIndicator(type, written);
    if (!once.ok) throw new Error(once.reason);
    const again = canonicalIndicator(once.indicator.type, once.indicator.value);
    expect(again.ok && again.indicator).toEqual(once.indicator);
  });

  it('derives the host of a URL as a domain or an IP address, marked with its source', () => {
    expect(canonicalIndicator('url', 'hxxps://Evil[.]Example/x')).toEqual({
      ok: true,
      indicator: { type: 'url', value: 'https://evil.example/x' },
      derived: [{ type: 'domain', value: 'evil.example', from: 'https://evil.example/x' }],
    });
    const byAddress = canonicalIndicator('url', 'http://[2001:DB8::1]/');
    expect(byAddress.ok && byAddress.derived).toEqual([
      { type: 'ipv6', value: '2001:db8::1', from: 'http://[2001:db8::1]/' },
    ]);
    const byMapped = canonicalIndicator('url', 'http://[::ffff:203.0.113.7]/');
    expect(byMapped.ok && byMapped.derived).toEqual([
      { type: 'ipv4', value: '203.0.113.7', from: 'http://203.0.113.7/' },
    ]);
  });

  it('derives nothing from an e-mail address (free-mail domains would correlate everyone)', () => {
    const result = canonicalIndicator('email', 'someone@mail.example');
    expect(result.ok && result.derived).toEqual([]);
  });

  it('gives reasons a reporter can act on', () => {
    const octal = canonicalIndicator('ipv4', '010.1.1.1');
    expect(!octal.ok && octal.reason).toContain('octal');
    const wrongFamily = canonicalIndicator('ipv6', '203.0.113.7');
    expect(!wrongFamily.ok && wrongFamily.reason).toContain('report it as ipv4');
  });
});

describe('indicatorKey', () => {
  it('keeps the same value of different types apart', () => {
    expect(indicatorKey({ type: 'md5', value: MD5 })).not.toBe(indicatorKey({ type: 'domain', value: MD5 }));
    expect(indicatorKey({ type: 'domain', value: 'evil.example' })).toBe('domain:evil.example');
  });
});

describe('readIndicators', () => {
  it('gives each observable once, written ones winning over derived, ordered by key', () => {
    const read = readIndicators([
      { type: 'url', value: 'hxxps://evil[.]example/a' },
      { type: 'url', value: 'https://evil.example/b' },
      { type: 'url', value: 'http://203.0.113.9/' },
      { type: 'ipv4', value: '203.0.113.9' },
      { type: 'domain', value: 'not a domain' },
      { type: 'domain', value: 'EVIL.example' },
      { type: 'url', value: 'https://other.example/' },
    ]);
    expect(read.written.map((w) => w.canonical?.value ?? null)).toEqual([
      'https://evil.example/a',
      'https://evil.example/b',
      'http://203.0.113.9/',
      '203.0.113.9',
      null,
      'evil.example',
      'https://other.example/',
    ]);
    expect(read.observables.map((o) => [o.key, o.written, o.hostOf])).toEqual([
      ['domain:evil.example', true, ['https://evil.example/a', 'https://evil.example/b']],
      ['domain:other.example', false, ['https://other.example/']],
      ['ipv4:203.0.113.9', true, ['http://203.0.113.9/']],
      ['url:http://203.0.113.9/', true, []],
      ['url:https://evil.example/a', true, []],
      ['url:https://evil.example/b', true, []],
      ['url:https://other.example/', true, []],
    ]);
  });
});

describe('canonicalCidr', () => {
  it.each([
    ['ipv4', '203.0.113.0/24', '203.0.113.0/24'],
    ['ipv4', ' 10.0.0.0/8 ', '10.0.0.0/8'],
    ['ipv6', '2001:DB8:0:0::/32', '2001:db8::/32'],
    ['ipv4', '203.0.113.5/24', null],
    ['ipv4', '2001:db8::/32', null],
    ['ipv6', '10.0.0.0/8', null],
    ['ipv4', '010.0.0.0/8', null],
    ['ipv4', '203.0.113.0', null],
  ] as const)('%s %j → %j', (type, written, expected) => {
    const result = canonicalCidr(type, written);
    expect(result.ok ? result.value : null).toBe(expected);
  });
});
