import { describe, expect, it } from 'vitest';
import { RENKEI_ID_NAMESPACE, nameBasedId } from '@renkei/correlation';

const DNS_NAMESPACE = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('nameBasedId', () => {
  it('matches the RFC 9562 version-5 vector for www.example.com in the DNS namespace', () => {
    expect(nameBasedId('www.example.com', DNS_NAMESPACE)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('accepts the namespace in upper case', () => {
    expect(nameBasedId('www.example.com', DNS_NAMESPACE.toUpperCase())).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it.each(['', 'a', 'shared-indicator:live:domain:evil.example', 'ünïcødé ✓', 'x'.repeat(10_000)])(
    'gives a lower-case version-5, RFC-variant UUID for %j',
    (name) => {
      const id = nameBasedId(name);
      expect(id).toMatch(UUID);
      expect(id[14]).toBe('5');
      expect(['8', '9', 'a', 'b']).toContain(id[19]);
    },
  );

  it('is deterministic', () => {
    const name = 'shared-indicator:live:md5:d41d8cd98f00b204e9800998ecf8427e';
    expect(nameBasedId(name)).toBe(nameBasedId(name));
    expect(nameBasedId(name)).toBe(nameBasedId(name, RENKEI_ID_NAMESPACE));
  });

  it('differs by name and by namespace', () => {
    expect(nameBasedId('a')).not.toBe(nameBasedId('b'));
    expect(nameBasedId('a')).not.toBe(nameBasedId('A'));
    expect(nameBasedId('www.example.com')).not.toBe(nameBasedId('www.example.com', DNS_NAMESPACE));
  });

  it('hashes the exact code points it is given (no Unicode normalisation)', () => {
    expect(nameBasedId('caf\u00e9')).not.toBe(nameBasedId('cafe\u0301'));
  });

  it.each(['not-a-uuid', '', '6ba7b810-9dad-11d1-80b4-00c04fd430', '6ba7b810-9dad-11d1-80b4-00c04fd430c8aa'])(
    'refuses namespace %j',
    (namespace) => {
      expect(() => nameBasedId('x', namespace)).toThrow(/not a UUID/);
    },
  );

  it('has a well-formed default namespace', () => {
    expect(RENKEI_ID_NAMESPACE).toMatch(UUID);
  });

  it.each([
    '6ba7b810-9dad-11d1-80b4-00c04fd430c80',
    '6ba7b810-9dad-11d1-80b4-00c04fd430c8g',
    '6ba7b8109dad11d180b400c04fd430c8zz',
    '6ba7b810-9dad-11d1-80b4-00c04fd430c8-',
  ])('refuses the malformed namespace %s', (namespace) => {
    expect(() => nameBasedId('www.example.com', namespace)).toThrow('not a UUID');
  });
});
