import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RenkeiError } from '@renkei/runtime';
import type { Principal, Role } from '@renkei/schema';
import { refusalReason, type TokenVerifier } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Routes marked public (health checks) need no token. */
    public?: boolean;
    /**
     * TAXII routes: a token is read when given (also as TAXII clients send it,
     * see {@link taxiiToken}) and the route decides what an anonymous caller gets.
     */
    taxii?: boolean;
    /**
     * A read that takes a body (`POST /v1/lookup`): it spends the read budget
     * by its route's cost, and the write limit does not count it.
     */
    read?: boolean;
  }
}

/**
 * Reads `Authorization: Bearer …` (or, for browsers' WebSockets, which cannot
 * set headers, the `access_token` query parameter) on every non-public route.
 * A refusal is logged with its reason; the client gets the generic 401.
 */
export function authenticateRequests(app: FastifyInstance, verify: TokenVerifier): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    // Unknown routes answer 404 whoever asks; public routes need no token.
    const route = request.routeOptions.url;
    if (route === undefined || request.routeOptions.config.public) return;
    const taxii = request.routeOptions.config.taxii === true;
    const token = taxii ? taxiiToken(request) : bearerToken(request);
    if (!token) {
      // Anonymous only when no credentials at all: unreadable ones are refused, never ignored.
      if (taxii && request.headers.authorization === undefined) return;
      throw new RenkeiError('RENKEI_UNAUTHENTICATED');
    }
    try {
      request.principal = await verify(token, { method: request.method, route, ip: request.ip });
    } catch (error) {
      const reason = refusalReason(error);
      if (reason !== undefined) request.log.info({ reason, route }, 'token refused');
      throw error;
    }
  });
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1];
  }
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.access_token;
  return typeof fromQuery === 'string' && fromQuery.length > 0 ? fromQuery : undefined;
}

/**
 * The token as TAXII clients send it: `Authorization: Bearer <token>`,
 * `Authorization: Token <token>` (taxii2-client's TokenAuth), or HTTP Basic
 * with the token as the password (clients that only know user and password;
 * the user name is ignored). No query parameter: TAXII URLs end up in logs.
 */
export function taxiiToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const scheme = /^(Bearer|Token)\s+(\S+)\s*$/i.exec(header);
  if (scheme) return scheme[2];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  return password.length > 0 ? password : undefined;
}

/** The caller, for routes behind {@link authenticateRequests}. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new RenkeiError('RENKEI_UNAUTHENTICATED');
  return request.principal;
}

export function requireAnyRole(principal: Principal, roles: readonly Role[]): void {
  if (!principal.roles.some((role) => roles.includes(role))) {
    throw new RenkeiError('RENKEI_FORBIDDEN', `this needs one of the roles: ${roles.join(', ')}`);
  }
}
