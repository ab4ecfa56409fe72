import { domainToASCII as nodeDomainToASCII } from 'node:url';
import { describe, expect, it } from 'vitest';
import { domainToASCII } from '../../src/shims/node-url.js';

// The browser build reads domain names with the shim: it must agree with
// Node.js wherever the indicators package relies on the answer.
describe('the browser shim of domainToASCII', () => {
  it('agrees with Node.js on names, internationalised ones and invalid ones', () => {
    for (const name of [
      'Evil.Example',
      'ｅｘａｍｐｌｅ．ｊｐ',
      '日本語。jp',
      'bücher.example',
      'a_b.example',
      'xn--zz',
      '',
    ]) {
      expect(domainToASCII(name), name).toBe(nodeDomainToASCII(name));
    }
  });
});
