import { describe, expect, it } from 'vitest';
import { ERROR_CODES, RenkeiError, isRenkeiError, type ErrorCode } from '@renkei/runtime';

const EXPECTED_STATUSES: Record<ErrorCode, number> = {
  RENKEI_INVALID_REQUEST: 400,
  RENKEI_UNAUTHENTICATED: 401,
  RENKEI_FORBIDDEN: 403,
  RENKEI_NOT_FOUND: 404,
  RENKEI_CONFLICT: 409,
  RENKEI_PAYLOAD_TOO_LARGE: 413,
  RENKEI_UNSUPPORTED_MEDIA_TYPE: 415,
  RENKEI_UNAVAILABLE: 503,
  RENKEI_INTERNAL: 500,
};
const codes = Object.keys(ERROR_CODES) as ErrorCode[];

describe('ERROR_CODES', () => {
  it('is the closed list of codes the hub documents', () => {
    expect(codes.sort()).toEqual(Object.keys(EXPECTED_STATUSES).sort());
  });

  it.each(codes)('%s is prefixed, has an HTTP error status and a message', (code) => {
    expect(code).toMatch(/^RENKEI_[A-Z_]+$/);
    expect(ERROR_CODES[code].status).toBeGreaterThanOrEqual(400);
    expect(ERROR_CODES[code].status).toBeLessThan(600);
    expect(ERROR_CODES[code].message.length).toBeGreaterThan(0);
  });
});

describe('RenkeiError', () => {
  it.each(codes)('maps %s to its status and default message', (code) => {
    const error = new RenkeiError(code);
    expect(error.code).toBe(code);
    expect(error.status).toBe(EXPECTED_STATUSES[code]);
    expect(error.status).toBe(ERROR_CODES[code].status);
    expect(error.message).toBe(ERROR_CODES[code].message);
    expect(error.name).toBe('RenkeiError');
    expect(error).toBeInstanceOf(Error);
    expect(error.retriable).toBe(false);
    expect(error.details).toBeUndefined();
    expect(error.cause).toBeUndefined();
    expect('cause' in error).toBe(false);
  });

  it('keeps a custom message, cause, retriable flag and details', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new RenkeiError('RENKEI_UNAVAILABLE', 'the broker is down', {
      cause,
      retriable: true,
      details: { broker: '127.0.0.1:9092' },
    });
    expect(error.message).toBe('the broker is down');
    expect(error.cause).toBe(cause);
    expect(error.retriable).toBe(true);
    expect(error.details).toEqual({ broker: '127.0.0.1:9092' });
    expect(error.status).toBe(503);
  });

  it('keeps a falsy but defined cause', () => {
    expect(new RenkeiError('RENKEI_INTERNAL', 'x', { cause: 0 }).cause).toBe(0);
  });

  it('has a stack trace', () => {
    expect(new RenkeiError('RENKEI_INTERNAL').stack).toContain('RenkeiError');
  });
});

describe('isRenkeiError', () => {
  it('tells RenkeiErrors from other values', () => {
    expect(isRenkeiError(new RenkeiError('RENKEI_NOT_FOUND'))).toBe(true);
    expect(isRenkeiError(new Error('RENKEI_NOT_FOUND'))).toBe(false);
    expect(isRenkeiError({ name: 'RenkeiError', code: 'RENKEI_NOT_FOUND', status: 404 })).toBe(false);
    expect(isRenkeiError(undefined)).toBe(false);
    expect(isRenkeiError('RENKEI_NOT_FOUND')).toBe(false);
  });
});
