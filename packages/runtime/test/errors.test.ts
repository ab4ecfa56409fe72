import { describe, expect, it } from 'vitest';
import { ERROR_CODES, RenkeiError, isRenkeiError, type ErrorCode } from '@renkei/runtime';

/**
 * The contract clients and operators rely on, written out once more by hand:
 * changing a status or whether a code is retriable must change this table too.
 */
const EXPECTED: Record<ErrorCode, { status: number | undefined; retriable: boolean }> = {
  RENKEI_INVALID_REQUEST: { status: 400, retriable: false },
  RENKEI_UNAUTHENTICATED: { status: 401, retriable: false },
  RENKEI_FORBIDDEN: { status: 403, retriable: false },
  RENKEI_NOT_FOUND: { status: 404, retriable: false },
  RENKEI_METHOD_NOT_ALLOWED: { status: 405, retriable: false },
  RENKEI_NOT_ACCEPTABLE: { status: 406, retriable: false },
  RENKEI_REQUEST_TIMEOUT: { status: 408, retriable: true },
  RENKEI_CONFLICT: { status: 409, retriable: false },
  RENKEI_PAYLOAD_TOO_LARGE: { status: 413, retriable: false },
  RENKEI_UNSUPPORTED_MEDIA_TYPE: { status: 415, retriable: false },
  RENKEI_IMPORT_REFUSED: { status: 422, retriable: false },
  RENKEI_RATE_LIMITED: { status: 429, retriable: true },
  RENKEI_HEADERS_TOO_LARGE: { status: 431, retriable: false },
  RENKEI_CLIENT_ABORTED: { status: 499, retriable: true },
  RENKEI_INTERNAL: { status: 500, retriable: false },
  RENKEI_UNAVAILABLE: { status: 503, retriable: true },
  RENKEI_CONFIG_INVALID: { status: undefined, retriable: false },
  RENKEI_KAFKA_CREDENTIALS_MISSING: { status: undefined, retriable: false },
  RENKEI_MIGRATION_FAILED: { status: undefined, retriable: false },
  RENKEI_TOPICS_UNAVAILABLE: { status: undefined, retriable: true },
  RENKEI_DATABASE_LOST: { status: undefined, retriable: true },
  RENKEI_BROKER_LOST: { status: undefined, retriable: true },
  RENKEI_CONSUMER_CRASHED: { status: undefined, retriable: true },
  RENKEI_FEED_RELAY_FAILED: { status: undefined, retriable: true },
  RENKEI_SERVER_FAILED: { status: undefined, retriable: false },
};
const codes = Object.keys(ERROR_CODES) as ErrorCode[];

describe('ERROR_CODES', () => {
  it('is the closed list of codes the hub documents', () => {
    expect([...codes].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(codes)('%s has the agreed status and retriability, and a message', (code) => {
    expect(code).toMatch(/^RENKEI_[A-Z_]+$/);
    expect({ status: ERROR_CODES[code].status, retriable: ERROR_CODES[code].retriable }).toEqual(
      EXPECTED[code],
    );
    expect(ERROR_CODES[code].message.length).toBeGreaterThan(0);
  });
});

describe('RenkeiError', () => {
  it.each(codes)('takes status, retriability and default message from %s', (code) => {
    const error = new RenkeiError(code);
    expect(error.code).toBe(code);
    expect(error.status).toBe(EXPECTED[code].status);
    expect(error.retriable).toBe(EXPECTED[code].retriable);
    expect(error.message).toBe(ERROR_CODES[code].message);
    expect(error.name).toBe('RenkeiError');
    expect(error).toBeInstanceOf(Error);
    expect(error.details).toBeUndefined();
    expect('cause' in error).toBe(false);
  });

  it('keeps a custom message, cause and details', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new RenkeiError('RENKEI_UNAVAILABLE', 'the broker is down', {
      cause,
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
