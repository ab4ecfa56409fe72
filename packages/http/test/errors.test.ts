import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ERROR_CODES, RenkeiError, isRenkeiError } from '@renkei/runtime';
import { invalidRequest, toErrorReply } from '@renkei/http';

function fastifyError(code: string, message: string, statusCode?: number): Error {
  return Object.assign(new Error(message), { code, ...(statusCode === undefined ? {} : { statusCode }) });
}

describe('toErrorReply: RenkeiError', () => {
  it('uses the error status, code and message', () => {
    const reply = toErrorReply(new RenkeiError('RENKEI_FORBIDDEN', 'this needs the analyst role'));
    expect(reply).toEqual({
      status: 403,
      body: { code: 'RENKEI_FORBIDDEN', message: 'this needs the analyst role' },
    });
  });

  it('includes the fields of a validation error', () => {
    const fields = [{ field: 'indicators[1].type', message: 'Invalid option' }];
    const reply = toErrorReply(
      new RenkeiError('RENKEI_INVALID_REQUEST', 'indicators[1].type: Invalid option', {
        details: { fields },
      }),
    );
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({
      code: 'RENKEI_INVALID_REQUEST',
      message: 'indicators[1].type: Invalid option',
      fields,
    });
    expect(reply.retryAfterSeconds).toBeUndefined();
  });

  it('has no fields key when the error has none', () => {
    const reply = toErrorReply(new RenkeiError('RENKEI_NOT_FOUND'));
    expect(reply.body).not.toHaveProperty('fields');
    expect(reply).not.toHaveProperty('retryAfterSeconds');
    expect(reply.body.message).toBe(ERROR_CODES.RENKEI_NOT_FOUND.message);
  });

  it('asks the client to retry a retriable error', () => {
    const reply = toErrorReply(new RenkeiError('RENKEI_UNAVAILABLE'));
    expect(reply.status).toBe(503);
    expect(reply.body.code).toBe('RENKEI_UNAVAILABLE');
    expect(reply.retryAfterSeconds).toBeGreaterThan(0);
    expect(Number.isInteger(reply.retryAfterSeconds)).toBe(true);
  });

  it('gives no retry hint for an error that is not retriable', () => {
    expect(toErrorReply(new RenkeiError('RENKEI_CONFLICT')).retryAfterSeconds).toBeUndefined();
    expect(toErrorReply(new RenkeiError('RENKEI_INTERNAL')).retryAfterSeconds).toBeUndefined();
  });

  const codes = Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[];
  it.each(codes.filter((code) => ERROR_CODES[code].status !== undefined))(
    'maps %s to its own status',
    (code) => {
      const reply = toErrorReply(new RenkeiError(code));
      expect(reply.status).toBe(ERROR_CODES[code].status);
      expect(reply.body.code).toBe(code);
      expect(reply.retryAfterSeconds !== undefined).toBe(ERROR_CODES[code].retriable && reply.status >= 500);
    },
  );

  it.each(codes.filter((code) => ERROR_CODES[code].status === undefined))(
    'answers the process failure %s as a 500 that does not name it',
    (code) => {
      const reply = toErrorReply(new RenkeiError(code), { correlationId: 'req-1' });
      expect(reply.status).toBe(500);
      expect(reply.body).toEqual({
        code: 'RENKEI_INTERNAL',
        message: 'internal error',
        correlationId: 'req-1',
      });
    },
  );

  it('answers a transient dependency failure 503 with Retry-After, and anything else 500', () => {
    const lost = Object.assign(new Error('Connection terminated unexpectedly'), { code: '08006' });
    const isTransient = (error: unknown) => error === lost;
    expect(toErrorReply(lost, { isTransient })).toMatchObject({
      status: 503,
      body: { code: 'RENKEI_UNAVAILABLE' },
      retryAfterSeconds: 1,
    });
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    const reply = toErrorReply(bug, { isTransient, correlationId: 'req-2' });
    expect(reply.status).toBe(500);
    expect(reply).not.toHaveProperty('retryAfterSeconds');
    expect(reply.body).toEqual({
      code: 'RENKEI_INTERNAL',
      message: 'internal error',
      correlationId: 'req-2',
    });
  });
});

describe("toErrorReply: Fastify's errors", () => {
  it('maps a body that is too large to 413 RENKEI_PAYLOAD_TOO_LARGE', () => {
    const reply = toErrorReply(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 'Request body is too large', 413));
    expect(reply.status).toBe(413);
    expect(reply.body).toEqual({
      code: 'RENKEI_PAYLOAD_TOO_LARGE',
      message: ERROR_CODES.RENKEI_PAYLOAD_TOO_LARGE.message,
    });
  });

  it('maps an unsupported media type to 415 RENKEI_UNSUPPORTED_MEDIA_TYPE', () => {
    const reply = toErrorReply(
      fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', "Unsupported Media Type: 'text/plain'", 415),
    );
    expect(reply.status).toBe(415);
    expect(reply.body.code).toBe('RENKEI_UNSUPPORTED_MEDIA_TYPE');
  });

  it('maps invalid JSON to 400 with a (body) field', () => {
    const reply = toErrorReply(
      fastifyError(
        'FST_ERR_CTP_INVALID_JSON_BODY',
        "Body is not valid JSON but content-type is set to 'application/json'",
        400,
      ),
    );
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('RENKEI_INVALID_REQUEST');
    expect(reply.body.fields).toHaveLength(1);
    expect(reply.body.fields![0]!.field).toBe('(body)');
    expect(reply.body.message).toContain('not valid JSON');
  });

  it('maps an empty JSON body to 400 with a (body) field', () => {
    const reply = toErrorReply(
      fastifyError(
        'FST_ERR_CTP_EMPTY_JSON_BODY',
        "Body cannot be empty when content-type is set to 'application/json'",
        400,
      ),
    );
    expect(reply.status).toBe(400);
    expect(reply.body.fields?.map((f) => f.field)).toEqual(['(body)']);
  });

  it('keeps the status of other client errors', () => {
    const reply = toErrorReply(fastifyError('FST_ERR_SOMETHING_ELSE', 'Method not allowed', 405));
    expect(reply.status).toBe(405);
    expect(Object.keys(ERROR_CODES)).toContain(reply.body.code);

    const noCode = Object.assign(new Error('Bad header'), { statusCode: 431 });
    expect(toErrorReply(noCode).status).toBe(431);
  });
});

describe('toErrorReply: anything else', () => {
  it.each([
    ['a plain Error', new Error('connection string postgres://user:secret@db leaked')],
    ['a TypeError', new TypeError('cannot read properties of undefined (reading secret)')],
    ['an error with a 5xx statusCode', Object.assign(new Error('upstream secret'), { statusCode: 502 })],
    ['an error with an unknown code', fastifyError('ECONNREFUSED', 'connect ECONNREFUSED secret', undefined)],
    ['a string', 'secret string'],
    ['a number', 42],
  ])('gives 500 RENKEI_INTERNAL for %s without its message', (_name, error) => {
    const reply = toErrorReply(error);
    expect(reply.status).toBe(500);
    expect(reply.body).toEqual({ code: 'RENKEI_INTERNAL', message: ERROR_CODES.RENKEI_INTERNAL.message });
    expect(JSON.stringify(reply)).not.toContain('secret');
    expect(reply.retryAfterSeconds).toBeUndefined();
  });
});

describe('toErrorReply: null and undefined (known bug)', () => {
  // toErrorReply takes `unknown` but reads `.code` of whatever it is given, so
  // null and undefined (e.g. `throw undefined` in a route) throw a TypeError
  // instead of mapping to a 500. Marked as failing until src is fixed: when this
  // turns red, drop `.fails`.
  it.each([null, undefined])('gives 500 RENKEI_INTERNAL for %s', (error) => {
    expect(toErrorReply(error)).toEqual({
      status: 500,
      body: { code: 'RENKEI_INTERNAL', message: ERROR_CODES.RENKEI_INTERNAL.message },
    });
  });
});

describe('invalidRequest', () => {
  const schema = z.strictObject({
    title: z.string().min(1),
    indicators: z.array(z.strictObject({ value: z.string() })),
  });

  it('gives a RENKEI_INVALID_REQUEST naming each bad field', () => {
    const parsed = schema.safeParse({ title: '', indicators: [{ value: 1 }], extra: true });
    expect(parsed.success).toBe(false);
    const error = invalidRequest(parsed.error!);

    expect(isRenkeiError(error)).toBe(true);
    expect(error.code).toBe('RENKEI_INVALID_REQUEST');
    const reply = toErrorReply(error);
    expect(reply.status).toBe(400);
    expect(reply.body.fields?.map((f) => f.field).sort()).toEqual(['extra', 'indicators[0].value', 'title']);
    expect(reply.body.message).toContain('title');
  });
});
