/**
 * Every error the hub raises on purpose has a code from this closed list, so
 * callers and logs can tell them apart without parsing messages. The list is
 * documented in docs/ERRORS.md (a test keeps the two in step).
 */
export const ERROR_CODES = {
  RENKEI_INVALID_REQUEST: { status: 400, message: 'the request is not valid' },
  RENKEI_UNAUTHENTICATED: { status: 401, message: 'a valid bearer token is required' },
  RENKEI_FORBIDDEN: { status: 403, message: 'the token does not allow this' },
  RENKEI_NOT_FOUND: { status: 404, message: 'no such resource' },
  RENKEI_CONFLICT: { status: 409, message: 'the id is already used by a different report' },
  RENKEI_PAYLOAD_TOO_LARGE: { status: 413, message: 'the body is larger than allowed' },
  RENKEI_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the body must be application/json' },
  RENKEI_UNAVAILABLE: { status: 503, message: 'a dependency is unavailable; retry later' },
  RENKEI_INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface RenkeiErrorOptions {
  cause?: unknown;
  /** True when the same request may succeed later (e.g. the broker was down). */
  retriable?: boolean;
  details?: Record<string, unknown>;
}

export class RenkeiError extends Error {
  override readonly name = 'RenkeiError';
  readonly code: ErrorCode;
  readonly status: number;
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
    this.retriable = options.retriable ?? false;
    this.details = options.details;
  }
}

export function isRenkeiError(error: unknown): error is RenkeiError {
  return error instanceof RenkeiError;
}
