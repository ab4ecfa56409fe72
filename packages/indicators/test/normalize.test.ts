import { describe, expect, it } from 'vitest';
import { INDICATOR_TYPES, type IndicatorType } from '@renkei/schema';
import { indicatorKey, normalizeIndicatorValue } from '../src/index.js';

describe('normalizeIndicatorValue', () => {
  it.each([
    ['ipv4', ' 192.0.2.1 ', '192.0.2.1'],
    ['ipv4', '192.0.2[.]1', '192.0.2[.]1'],
    ['ipv6', ' 2001:DB8::ABCD ', '2001:db8::abcd'],
    ['ipv6', 'FE80::1', 'fe80::1'],
    ['domain', ' Evil.Example.COM ', 'evil.example.com'],
    ['domain', 'evil.example.', 'evil.example'],
    ['domain', 'EVIL.EXAMPLE.  ', 'evil.example'],
    ['domain', 'evil.example..', 'evil.example.'],
    ['domain', '.', ''],
    ['url', '  https://Evil.Example/Login?Token=AbC  ', 'https://Evil.Example/Login?Token=AbC'],
    ['url', 'HXXP://evil[.]example/', 'HXXP://evil[.]example/'],
    ['email', ' CEO@Evil.Example ', 'ceo@evil.example'],
    ['md5', 'D41D8CD98F00B204E9800998ECF8427E', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['sha1', ' DA39A3EE5E6B4B0D3255BFEF95601890AFD80709\n', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'],
    [
      'sha256',
      'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ],
    ['cve', ' cve-2024-3400 ', 'CVE-2024-3400'],
    ['cve', 'Cve-2021-44228', 'CVE-2021-44228'],
  ] as [IndicatorType, string, string][])('%s %j → %j', (type, value, expected) => {
    expect(normalizeIndicatorValue(type, value)).toBe(expected);
  });

  it.each(INDICATOR_TYPES.map((t) => [t]))('trims surrounding whitespace for %s', (type) => {
    expect(normalizeIndicatorValue(type, ' \t\nabc\r\n ')).toBe(type === 'cve' ? 'ABC' : 'abc');
  });

  it.each(INDICATOR_TYPES.map((t) => [t]))('is idempotent for %s', (type) => {
    const samples = [' Evil.Example. ', ' CVE-2024-3400 ', ' AbCdEf ', 'http://X.example/Path '];
    for (const sample of samples) {
      const once = normalizeIndicatorValue(type, sample);
      if (type === 'domain' && once.endsWith('.')) continue;
      expect(normalizeIndicatorValue(type, once)).toBe(once);
    }
  });

  it('makes equivalent domain spellings meet', () => {
    const spellings = ['evil.example', 'EVIL.example', ' evil.example. ', 'Evil.Example.'];
    expect(new Set(spellings.map((s) => normalizeIndicatorValue('domain', s)))).toEqual(
      new Set(['evil.example']),
    );
  });
});

describe('indicatorKey', () => {
  it('joins type and normalised value', () => {
    expect(indicatorKey('domain', 'evil.example')).toBe('domain:evil.example');
    expect(indicatorKey('cve', 'CVE-2024-3400')).toBe('cve:CVE-2024-3400');
  });

  it('keeps the same value of different types apart', () => {
    const value = 'd41d8cd98f00b204e9800998ecf8427e';
    expect(indicatorKey('md5', value)).not.toBe(indicatorKey('domain', value));
  });

  it('does not normalise by itself', () => {
    expect(indicatorKey('domain', 'Evil.Example')).toBe('domain:Evil.Example');
    expect(indicatorKey('domain', normalizeIndicatorValue('domain', 'Evil.Example'))).toBe(
      'domain:evil.example',
    );
  });
});
