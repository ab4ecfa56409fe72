/**
 * Every error the hub raises on purpose has a code from this closed list, so
 * callers and logs can tell them apart without parsing messages. Whether a
 * retry can help follows from the code alone, never from the call site: a
 * client that retries every `retriable` code and nothing else does the right
 * thing. The list is documented in docs/ERRORS.md (a test keeps the two in step).
 *
 * `status` is the HTTP status of codes a client can receive; codes without one
 * end a process (a supervisor restarts it) and appear only in logs. The loss
 * codes end it only when the operator opted in with a loss timeout: by
 * default a service waits for what is missing, not ready, and recovers.
 */
export const ERROR_CODES = {
  RENKEI_INVALID_REQUEST: { status: 400, retriable: false, message: 'the request is not valid' },
  RENKEI_UNAUTHENTICATED: { status: 401, retriable: false, message: 'a valid bearer token is required' },
  RENKEI_FORBIDDEN: { status: 403, retriable: false, message: 'the token does not allow this' },
  RENKEI_NOT_FOUND: { status: 404, retriable: false, message: 'no such resource' },
  RENKEI_METHOD_NOT_ALLOWED: {
    status: 405,
    retriable: false,
    message: 'the resource does not support this method',
  },
  RENKEI_NOT_ACCEPTABLE: {
    status: 406,
    retriable: false,
    message: 'the Accept header names no media type this resource is served in',
  },
  RENKEI_REQUEST_TIMEOUT: {
    status: 408,
    retriable: true,
    message: 'the request was not received in time',
  },
  RENKEI_CONFLICT: { status: 409, retriable: false, message: 'the id is already used by a different report' },
  RENKEI_PAYLOAD_TOO_LARGE: { status: 413, retriable: false, message: 'the body is larger than allowed' },
  RENKEI_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    retriable: false,
    message: 'the body must be JSON encoded as UTF-8',
  },
  RENKEI_IMPORT_REFUSED: {
    status: 422,
    retriable: false,
    message: 'nothing in the bundle or event could become a report',
  },
  RENKEI_RATE_LIMITED: {
    status: 429,
    retriable: true,
    message: 'too many requests from this organisation; retry later',
  },
  RENKEI_HEADERS_TOO_LARGE: {
    status: 431,
    retriable: false,
    message: 'the request headers are larger than allowed',
  },
  RENKEI_CLIENT_ABORTED: {
    status: 499,
    retriable: true,
    message: 'the client closed the connection before its request arrived in full',
  },
  RENKEI_INTERNAL: { status: 500, retriable: false, message: 'internal error' },
  RENKEI_UNAVAILABLE: { status: 503, retriable: true, message: 'a dependency is unavailable; retry later' },

  // Process failures: the service stops with a non-zero exit code. Each names what is missing.
  RENKEI_CONFIG_INVALID: { status: undefined, retriable: false, message: 'the configuration is not valid' },
  RENKEI_KAFKA_CREDENTIALS_MISSING: {
    status: undefined,
    retriable: false,
    message: 'the Kafka password or CA of the service principal cannot be read',
  },
  RENKEI_MIGRATION_FAILED: {
    status: undefined,
    retriable: false,
    message: 'a database migration failed',
  },
  RENKEI_TOPICS_UNAVAILABLE: {
    status: undefined,
    retriable: true,
    message: 'the Kafka topics could not be prepared',
  },
  RENKEI_DATABASE_LOST: {
    status: undefined,
    retriable: true,
    message: 'PostgreSQL did not answer for longer than DATABASE_LOSS_TIMEOUT_MS',
  },
  RENKEI_BROKER_LOST: {
    status: undefined,
    retriable: true,
    message: 'Kafka did not answer for longer than KAFKA_LOSS_TIMEOUT_MS',
  },
  RENKEI_CONSUMER_CRASHED: {
    status: undefined,
    retriable: true,
    message: 'a Kafka consumer crashed and kafkajs would not restart it',
  },
  RENKEI_FEED_RELAY_FAILED: {
    status: undefined,
    retriable: true,
    message: 'the feed relay could not publish to Kafka for longer than KAFKA_LOSS_TIMEOUT_MS',
  },
  RENKEI_SERVER_FAILED: { status: undefined, retriable: false, message: 'the HTTP server failed' },
} as const satisfies Record<string, { status: number | undefined; retriable: boolean; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes a client can receive in an HTTP answer. */
export type HttpErrorCode = {
  [Code in ErrorCode]: (typeof ERROR_CODES)[Code]['status'] extends number ? Code : never;
}[ErrorCode];

export interface RenkeiErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class RenkeiError extends Error {
  override readonly name = 'RenkeiError';
  readonly code: ErrorCode;
  /** The HTTP status; undefined for codes that end a process rather than answer a request. */
  readonly status: number | undefined;
  /** True when the same request may succeed later. Set by the code, never by the caller. */
  readonly retriable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string = ERROR_CODES[code].message,
    options: RenkeiErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retriable = ERROR_CODES[code].retriable;
    this.details = options.details;
  }
}

export function isRenkeiError(error: unknown): error is RenkeiError {
  return error instanceof RenkeiError;
}
