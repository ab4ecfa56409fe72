import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { RenkeiError } from '@renkei/runtime';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface WriteLimits {
  /** Writes one organisation may make per window. */
  max: number;
  windowMs: number;
}

/**
 * Limits every write (any method but GET, HEAD and OPTIONS) per organisation:
 * past the limit a 429 `RENKEI_RATE_LIMITED` with `Retry-After`. Counting is
 * per process (each service instance keeps its own). Register it before the
 * routes: the plugin attaches to each route as it is declared, after the
 * token check, so it counts by the caller's organisation.
 */
export async function limitWritesPerOrganisation(app: FastifyInstance, limits: WriteLimits): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    max: limits.max,
    timeWindow: limits.windowMs,
    // Reads and unauthenticated requests (refused anyway) are not counted.
    // Reads that take a body (`config: { read: true }`) spend the read budget instead.
    allowList: (request) =>
      READ_METHODS.has(request.method) ||
      request.principal === null ||
      request.routeOptions.config?.read === true,
    keyGenerator: (request) => `organisation:${request.principal?.organisationId ?? ''}`,
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    errorResponseBuilder: (_request, context) =>
      new RenkeiError(
        'RENKEI_RATE_LIMITED',
        `at most ${context.max} writes per organisation every ${context.after}; retry after ${Math.ceil(context.ttl / 1000)} s`,
      ),
  });
}
