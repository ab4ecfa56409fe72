import { describe, expect, it } from 'vitest';
import { defang, readIndicatorLine, readIndicatorLines } from '../../src/indicators-input.js';

describe('the report form reads indicators one per line', () => {
  it('guesses the type of a bare value and shows it canonical', () => {
    expect(readIndicatorLines('hxxps://Evil[.]Example/x\n\n  1.2.3.4  \nceo[at]evil[.]example')).toEqual([
      {
        line: 1,
        written: 'hxxps://Evil[.]Example/x',
        type: 'url',
        value: 'hxxps://Evil[.]Example/x',
        canonical: 'https://evil.example/x',
      },
      { line: 3, written: '1.2.3.4', type: 'ipv4', value: '1.2.3.4', canonical: '1.2.3.4' },
      {
        line: 4,
        written: 'ceo[at]evil[.]example',
        type: 'email',
        value: 'ceo[at]evil[.]example',
        canonical: 'ceo@evil.example',
      },
    ]);
  });

  it('takes a hash for a hash and a CVE for a CVE, not for a domain', () => {
    expect(readIndicatorLine('A'.repeat(64), 1)).toMatchObject({ type: 'sha256', canonical: 'a'.repeat(64) });
    expect(readIndicatorLine('d41d8cd98f00b204e9800998ecf8427e', 1)).toMatchObject({ type: 'md5' });
    expect(readIndicatorLine('cve-2024-3094', 1)).toMatchObject({ type: 'cve', canonical: 'CVE-2024-3094' });
    expect(readIndicatorLine('update-check[.]example', 1)).toMatchObject({
      type: 'domain',
      canonical: 'update-check.example',
    });
  });

  it('honours a written type, and names what is wrong with its value', () => {
    expect(readIndicatorLine('domain: Evil.Example.', 2)).toMatchObject({
      type: 'domain',
      canonical: 'evil.example',
    });
    const bad = readIndicatorLine('ipv4 010.1.1.1', 5);
    expect(bad).toMatchObject({ line: 5, written: 'ipv4 010.1.1.1' });
    expect(bad && 'error' in bad && bad.error).toMatch(/^ipv4: /);
  });

  it('flags a value of no type at all', () => {
    const bad = readIndicatorLine('not an indicator!', 1);
    expect(bad && 'error' in bad).toBe(true);
  });
});

describe('defanged display', () => {
  it('makes nothing a mail client would turn into a link', () => {
    expect(defang('url', 'https://evil.example/a.b')).toBe('hxxps://evil[.]example/a.b');
    expect(defang('domain', 'evil.example')).toBe('evil[.]example');
    expect(defang('email', 'ceo@evil.example')).toBe('ceo[at]evil[.]example');
    expect(defang('ipv4', '192.0.2.1')).toBe('192[.]0[.]2[.]1');
    expect(defang('sha256', 'ab')).toBe('ab');
  });
});
