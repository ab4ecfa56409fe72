import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { taxiiToken } from '@renkei/auth';

const request = (authorization?: string) =>
  ({ headers: authorization === undefined ? {} : { authorization } }) as unknown as FastifyRequest;

describe('taxiiToken', () => {
  it('reads Bearer, Token and Basic (the password) as TAXII clients send them', () => {
    expect(taxiiToken(request('Bearer abc.def'))).toBe('abc.def');
    expect(taxiiToken(request('token abc.def'))).toBe('abc.def');
    expect(taxiiToken(request(`Basic ${Buffer.from('user:abc.def').toString('base64')}`))).toBe('abc.def');
    expect(taxiiToken(request(`Basic ${Buffer.from(':abc:def').toString('base64')}`))).toBe('abc:def');
  });

  it('finds none without credentials or in unreadable ones', () => {
    expect(taxiiToken(request())).toBeUndefined();
    expect(taxiiToken(request('Basic ' + Buffer.from('user').toString('base64')))).toBeUndefined();
    expect(taxiiToken(request('Basic ' + Buffer.from('user:').toString('base64')))).toBeUndefined();
    expect(taxiiToken(request('Digest x'))).toBeUndefined();
  });
});
