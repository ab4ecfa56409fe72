import type { FastifyError, FastifyInstance } from 'fastify';
import { ERROR_CODES, RenkeiError, isRenkeiError, type ErrorCode } from '@renkei/runtime';
import { fieldIssues, describeIssues, type FieldIssue } from '@renkei/schema';
import type { z } from 'zod';

/** The body of every error reply. */
export interface ErrorReply {
  code: ErrorCode;
  message: string;
  fields?: FieldIssue[];
}

export function invalidRequest(error: z.ZodError): RenkeiError {
  const fields = fieldIssues(error);
  return new RenkeiError('RENKEI_INVALID_REQUEST', describeIssues(fields), { details: { fields } });
}

/** Fastify's own client errors, mapped onto the hub's codes. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'RENKEI_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'RENKEI_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'RENKEI_INVALID_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'RENKEI_INVALID_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'RENKEI_INVALID_REQUEST',
};

export function toErrorReply(error: unknown): {
  status: number;
  body: ErrorReply;
  retryAfterSeconds?: number;
} {
  if (isRenkeiError(error)) {
    const fields = error.details?.fields as FieldIssue[] | undefined;
    return {
      status: error.status,
      body: { code: error.code, message: error.message, ...(fields ? { fields } : {}) },
      ...(error.retriable ? { retryAfterSeconds: 1 } : {}),
    };
  }
  const fastifyError: Partial<FastifyError> = typeof error === 'object' && error !== null ? error : {};
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) {
    const message =
      mapped === 'RENKEI_INVALID_REQUEST'
        ? `body: ${fastifyError.message ?? 'not valid JSON'}`
        : ERROR_CODES[mapped].message;
    return {
      status: ERROR_CODES[mapped].status,
      body: {
        code: mapped,
        message,
        ...(mapped === 'RENKEI_INVALID_REQUEST' ? { fields: [{ field: '(body)', message }] } : {}),
      },
    };
  }
  // Any other error Fastify raised about the request itself is still the client's.
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return {
      status: fastifyError.statusCode,
      body: { code: 'RENKEI_INVALID_REQUEST', message: fastifyError.message ?? 'the request is not valid' },
    };
  }
  return { status: 500, body: { code: 'RENKEI_INTERNAL', message: ERROR_CODES.RENKEI_INTERNAL.message } };
}

export function installErrorReplies(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body, retryAfterSeconds } = toErrorReply(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.code, status, reason: body.message }, 'request refused');
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="renkei"');
    if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ code: 'RENKEI_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
}
