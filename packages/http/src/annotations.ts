import type { FastifyRequest } from 'fastify';

const annotations = new WeakMap<FastifyRequest, Record<string, unknown>>();

/**
 * Adds fields to the request's one log line (written when the answer is
 * sent): what a route wants to trace, such as the report id, without a log
 * line of its own.
 */
export function annotateRequest(request: FastifyRequest, fields: Record<string, unknown>): void {
  annotations.set(request, { ...annotations.get(request), ...fields });
}

export function requestAnnotations(request: FastifyRequest): Record<string, unknown> {
  return annotations.get(request) ?? {};
}
