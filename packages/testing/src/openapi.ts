import type { FastifyInstance } from 'fastify';

/**
 * The routes an OpenAPI document describes, as `METHOD /path` with Fastify's
 * `:param` spelling, so they compare with the routes a service registered.
 */
export async function documentedRoutes(app: Pick<FastifyInstance, 'inject'>): Promise<string[]> {
  const response = await app.inject({ method: 'GET', url: '/openapi.json' });
  const document = response.json() as { paths?: Record<string, Record<string, unknown>> };
  return Object.entries(document.paths ?? {}).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
  );
}
