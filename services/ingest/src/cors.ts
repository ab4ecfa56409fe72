import { normaliseOrigin, type HttpServer } from '@renkei/http';

/**
 * What a browser page of `origin` may be told: the CORS headers for an
 * allowed origin (the console, served by the gateway, submits here), none
 * for any other, so other sites' pages cannot read the answers.
 */
export function corsHeaders(
  origin: string | undefined,
  allowed: ReadonlySet<string>,
  preflight: boolean,
): Record<string, string> | null {
  if (origin === undefined) return null;
  const normal = normaliseOrigin(origin);
  if (normal === null || !allowed.has(normal)) return null;
  return {
    'access-control-allow-origin': normal,
    vary: 'Origin',
    ...(preflight
      ? {
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': 'authorization, content-type',
          'access-control-max-age': '600',
        }
      : {}),
  };
}

/**
 * Answers preflights and marks answers for the configured origins. Tokens
 * travel in `Authorization`, never in cookies, so credentials are not allowed.
 */
export function allowOrigins(app: HttpServer, origins: readonly string[]): void {
  const allowed = new Set(origins.flatMap((origin) => normaliseOrigin(origin) ?? []));
  if (allowed.size === 0) return;
  app.addHook('onRequest', async (request, reply) => {
    const preflight =
      request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    const headers = corsHeaders(request.headers.origin, allowed, preflight);
    if (headers) reply.headers(headers);
    if (preflight) return reply.status(headers ? 204 : 403).send();
  });
}
