import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ERROR_CODES, RenkeiError, isRenkeiError, type HttpErrorCode } from '@renkei/runtime';
import { fieldIssues, describeIssues, type FieldIssue } from '@renkei/schema';
import { annotateRequest } from './annotations.js';

/** The body of every error reply. */
export const errorReplySchema = z
  .object({
    code: z.string(),
    message: z.string(),
    fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    /** On a 500: quote it when reporting the fault; the log line with the stack carries it too. */
    correlationId: z.string().optional(),
  })
  .meta({ id: 'ErrorReply' });

export interface ErrorReply {
  code: HttpErrorCode;
  message: string;
  fields?: FieldIssue[];
  correlationId?: string;
}

/**
 * Recognises a failure of a dependency that a retry can get past (a lost
 * database connection, a Kafka timeout). Each service passes those of its
 * dependencies; anything else that escapes a route is a fault of the hub.
 */
export type TransientErrorTest = (error: unknown) => boolean;

export function invalidRequest(error: z.ZodError, prefix?: string): RenkeiError {
  const fields = fieldIssues(error).map((issue) =>
    prefix && issue.field !== '(body)' ? { ...issue, field: `${prefix}${issue.field}` } : issue,
  );
  return new RenkeiError('RENKEI_INVALID_REQUEST', describeIssues(fields), { details: { fields } });
}

/** One bad field, named as a client writes it. */
export function invalidField(field: string, message: string): RenkeiError {
  const fields = [{ field, message }];
  return new RenkeiError('RENKEI_INVALID_REQUEST', describeIssues(fields), { details: { fields } });
}

/** Fastify's own client errors, mapped onto the hub's codes. */
const FASTIFY_CODES: Record<string, HttpErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'RENKEI_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'RENKEI_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'RENKEI_INVALID_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'RENKEI_INVALID_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'RENKEI_INVALID_REQUEST',
  FST_ERR_BAD_URL: 'RENKEI_INVALID_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'RENKEI_INVALID_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'RENKEI_INVALID_REQUEST',
};

/** Errors about the URL rather than the body, with what the client is told. */
const URL_MESSAGES: Record<string, string> = {
  FST_ERR_BAD_URL: 'the path is not a valid URL: it holds a malformed percent-encoding',
  FST_ERR_MAX_PARAM_LENGTH: 'a path segment is longer than allowed',
  FST_ERR_ASYNC_CONSTRAINT: 'the request does not match the route',
};

const RETRY_AFTER_SECONDS = 1;

const HTTP_CODES = (Object.keys(ERROR_CODES) as HttpErrorCode[]).filter(
  (code) => ERROR_CODES[code].status !== undefined,
);

export interface ErrorAnswer {
  status: number;
  body: ErrorReply;
  retryAfterSeconds?: number;
}

/**
 * What a failed request is answered. Retriability follows from the code: only
 * a failure that `isTransient` recognises becomes a 503 with Retry-After;
 * any other unexpected error is a 500 that says nothing about its cause.
 */
export function toErrorReply(
  error: unknown,
  {
    isTransient = () => false,
    correlationId,
  }: { isTransient?: TransientErrorTest; correlationId?: string } = {},
): ErrorAnswer {
  if (isRenkeiError(error) && error.status !== undefined) {
    const fields = error.details?.fields as FieldIssue[] | undefined;
    return answer(error.code as HttpErrorCode, error.message, fields);
  }
  const fastifyError: Partial<FastifyError> = typeof error === 'object' && error !== null ? error : {};
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) {
    if (mapped !== 'RENKEI_INVALID_REQUEST') return answer(mapped, ERROR_CODES[mapped].message);
    const aboutUrl = URL_MESSAGES[fastifyError.code!];
    if (aboutUrl) return answer(mapped, aboutUrl);
    const message = `body: ${fastifyError.message ?? 'not valid JSON'}`;
    return answer(mapped, message, [{ field: '(body)', message }]);
  }
  if (isTransient(error)) return answer('RENKEI_UNAVAILABLE', ERROR_CODES.RENKEI_UNAVAILABLE.message);
  // Any other 4xx raised by Fastify or a plugin is still the client's, under
  // the hub's code for that status when it has one.
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    const status = fastifyError.statusCode;
    const code = HTTP_CODES.find((candidate) => ERROR_CODES[candidate].status === status);
    return {
      status,
      body: {
        code: code ?? 'RENKEI_INVALID_REQUEST',
        message: fastifyError.message ?? 'the request is not valid',
      },
    };
  }
  return {
    status: 500,
    body: {
      code: 'RENKEI_INTERNAL',
      message: ERROR_CODES.RENKEI_INTERNAL.message,
      ...(correlationId ? { correlationId } : {}),
    },
  };
}

function answer(code: HttpErrorCode, message: string, fields?: FieldIssue[]): ErrorAnswer {
  const { status, retriable } = ERROR_CODES[code];
  return {
    status,
    body: { code, message, ...(fields ? { fields } : {}) },
    ...(retriable && status >= 500 ? { retryAfterSeconds: RETRY_AFTER_SECONDS } : {}),
  };
}

const PROBED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * Whether the client went away before its request was read in full (it
 * closed the connection mid-body). Node reports it as an `ECONNRESET`
 * "aborted" on the request stream; it is the client's doing, not an outage.
 */
export function isClientAbort(error: unknown, request: FastifyRequest): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' && (request.raw.readableAborted || request.raw.socket?.destroyed !== false);
}

export function installErrorReplies(app: FastifyInstance, isTransient: TransientErrorTest): void {
  app.setErrorHandler((error, request, reply) => {
    if (isClientAbort(error, request)) {
      // Nobody is left to answer: say so once, at info, under its own code.
      const { status, message } = ERROR_CODES.RENKEI_CLIENT_ABORTED;
      request.log.info(
        {
          method: request.method,
          path: request.url.split('?')[0],
          route: request.routeOptions.url,
          status,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          code: 'RENKEI_CLIENT_ABORTED',
          reason: message,
        },
        'request aborted by the client',
      );
      return reply.hijack();
    }
    const { status, body, retryAfterSeconds } = toErrorReply(error, {
      isTransient,
      correlationId: request.id,
    });
    // The request's one log line (written when the answer is sent) says why;
    // a fault also gets the stack, under the correlation id the client sees.
    annotateRequest(request, { code: body.code, reason: body.message });
    if (status >= 500) request.log.error({ err: error, code: body.code }, 'request fault');
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="renkei"');
    if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
    return reply.status(status).send(body);
  });
  const notFound = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    // A path that exists under other methods is a 405 with the methods it has.
    const allowed = PROBED_METHODS.filter(
      (method) => method !== request.method && app.findRoute({ method, url: path }) !== null,
    );
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return reply.status(405).send({
        code: 'RENKEI_METHOD_NOT_ALLOWED',
        message: `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`,
      } satisfies ErrorReply);
    }
    return reply
      .status(404)
      .send({ code: 'RENKEI_NOT_FOUND', message: `no route ${request.method} ${path}` } satisfies ErrorReply);
  };
  // Answered before the body is read (after the onRequest hooks, so CORS
  // headers are set): nobody, with or without a token, makes the hub parse a
  // body no route asked for.
  app.addHook('preParsing', async (request, reply, payload) => {
    if (request.routeOptions.url !== undefined) return payload;
    await notFound(request, reply);
    return payload;
  });
  app.setNotFoundHandler(notFound);
}

/**
 * Errors Fastify raises before a route is found (a malformed percent-encoding
 * in the path): the same body as every other error, and the request's one
 * log line, since no route hook runs for them.
 */
export function frameworkErrorReply(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorReply(error, { correlationId: request.id });
  request.log.info(
    {
      method: request.method,
      path: request.url.split('?')[0],
      status,
      code: body.code,
      reason: body.message,
    },
    status >= 500 ? 'request failed' : 'request refused',
  );
  void reply.status(status).send(body);
}

/**
 * Node's HTTP parser answers some requests before Fastify sees them (headers
 * too large, a malformed request line, a request that never finishes); they
 * get the same body shape as every other error.
 */
export function clientErrorReply(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // An answer half written cannot be followed by another. (A request whose
  // answer was sent in full, a 401 whose body still trickles in, gets the 408
  // as Node itself would send it, and the connection closes.)
  const answered = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
    ?.headersSent;
  if (answered) {
    socket.destroy();
    return;
  }
  const code: HttpErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'RENKEI_HEADERS_TOO_LARGE'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'RENKEI_REQUEST_TIMEOUT'
        : 'RENKEI_INVALID_REQUEST';
  const { status, message } = ERROR_CODES[code];
  const body = JSON.stringify({
    code,
    message: code === 'RENKEI_INVALID_REQUEST' ? 'the request is not valid HTTP' : message,
  } satisfies ErrorReply);
  if (!socket.writable) {
    socket.destroy(error);
    return;
  }
  // Ended rather than destroyed at once, so the answer leaves before the
  // connection closes; a client that reads nothing is cut a second later.
  const cut = setTimeout(() => socket.destroy(), 1_000);
  cut.unref();
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => {
      clearTimeout(cut);
      socket.destroy();
    },
  );
}
