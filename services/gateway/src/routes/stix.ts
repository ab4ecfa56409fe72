import { z } from 'zod';
import { principalOf } from '@renkei/auth';
import { errorReplies, type HttpServer } from '@renkei/http';
import type { Exporter } from '../exports/exporter.js';

export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

/** The envelope; each object's own shape is STIX's (the tests validate it against the official schemas). */
export const stixBundleSchema = z.object({
  type: z.literal('bundle'),
  id: z.string(),
  objects: z.array(z.record(z.string(), z.unknown())),
});

const exportQuery = z.object({
  /** Items the hub added after this time (exclusive); every item when absent. */
  since: z.iso.datetime({ offset: true }).optional(),
  /** At most this many reports, alerts and warnings each, oldest first. */
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
});

/**
 * `GET /v1/stix/bundle`: every report, alert and warning the caller may see,
 * as one STIX 2.1 bundle. When a kind had more than `limit`, the
 * `Renkei-Next-Since` header says what to pass as `since` for the rest.
 */
export function stixRoutes(app: HttpServer, deps: { exporter: Exporter }): void {
  app.get(
    '/v1/stix/bundle',
    {
      schema: {
        summary: 'Everything the caller may see, as a STIX 2.1 bundle',
        description:
          `Answered as \`${STIX_MEDIA_TYPE}\`: reports, alerts (a grouping each) and warnings the caller may see, ` +
          'with TLP 2.0 marking definitions and other organisations as the policy shows them. Ids are name-based: ' +
          'the same data gives the same bundle. `Renkei-Next-Since` (when present) continues a truncated export.',
        tags: ['stix'],
        querystring: exportQuery,
        response: { 200: stixBundleSchema, ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_UNAVAILABLE') },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { since, limit } = request.query;
      // Built in the export worker: seconds of CPU for 10^4 items never hold this event loop.
      const { body, size, nextSince } = await deps.exporter.bundle(principal, {
        since: since ? new Date(since).toISOString() : null,
        limit,
      });
      if (nextSince) reply.header('renkei-next-since', nextSince);
      // A stream of bytes: the media type goes out exactly as STIX writes it, and 10^4 objects skip a second validation.
      return reply
        .header('content-type', STIX_MEDIA_TYPE)
        .header('content-length', size)
        .send(body as unknown as z.input<typeof stixBundleSchema>);
    },
  );
}
