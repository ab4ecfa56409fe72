import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServer } from '@renkei/http';
import type { TaxiiError } from '@renkei/schema';
import { TAXII_MEDIA_TYPE } from './paging.js';

/** The hub's error body, as every error handler of the hub writes it. */
interface HubError {
  code?: unknown;
  message?: unknown;
  fields?: unknown;
  correlationId?: unknown;
}

/**
 * The hub's error body as a TAXII 2.1 error resource: the hub's code is the
 * `error_code` (documented in ERRORS.md), its message the description, the
 * fields it named and the correlation id of a fault go in `details`.
 */
export function taxiiErrorFrom(status: number, hub: HubError | undefined): TaxiiError {
  const code = typeof hub?.code === 'string' ? hub.code : undefined;
  const message = typeof hub?.message === 'string' ? hub.message : undefined;
  const details: Record<string, unknown> = {};
  if (Array.isArray(hub?.fields)) details.fields = hub.fields;
  return {
    title: STATUS_CODES[status] ?? 'Error',
    ...(message !== undefined ? { description: message } : {}),
    ...(typeof hub?.correlationId === 'string' ? { error_id: hub.correlationId } : {}),
    ...(code !== undefined ? { error_code: code } : {}),
    http_status: String(status),
    ...(Object.keys(details).length ? { details } : {}),
  };
}

function isTaxiiPath(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0]!;
  return path === '/taxii2' || path.startsWith('/taxii2/');
}

/**
 * Every error under `/taxii2/` leaves as a TAXII error resource with the
 * TAXII media type, whatever refused the request: the token check and the
 * rate limits (hooks shared with the rest of the gateway), the router (404,
 * 405), the body parser (413, 415), a route. One hook on the answer, after
 * the hub's error handler wrote its own body, so no refusal path is missed
 * and the hub's error handling stays one.
 */
export function answerTaxiiErrors(app: HttpServer): void {
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (reply.statusCode < 400 || !isTaxiiPath(request)) return payload;
    let hub: HubError | undefined;
    const text =
      typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '';
    try {
      hub = JSON.parse(text) as HubError;
    } catch {
      hub = undefined;
    }
    if (hub !== undefined && typeof hub === 'object' && hub !== null && 'http_status' in hub) return payload;
    reply.header('content-type', TAXII_MEDIA_TYPE);
    return Buffer.from(JSON.stringify(taxiiErrorFrom(reply.statusCode, hub)), 'utf8');
  });
}
