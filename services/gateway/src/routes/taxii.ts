import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requireAnyRole, taxiiToken } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { errorReplies, invalidField, type HttpServer } from '@renkei/http';
import { REPORTING_ROLES, type ExportReader } from '@renkei/policy';
import { RenkeiError, type Logger } from '@renkei/runtime';
import { importAnswerSchema, type Principal } from '@renkei/schema';
import type { PageItem, TaxiiPage } from '../exports/builder.js';
import type { Exporter } from '../exports/exporter.js';
import { collectionResource, collectionsFor, type TaxiiCollection } from '../taxii/collections.js';
import { acceptsTaxii, STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE } from '../taxii/paging.js';
import { answerTaxiiErrors } from '../taxii/errors.js';
import { statusFromImport, statusFromRefusal, withPendings, type ImportRefusal } from '../taxii/status.js';
import { getTaxiiStatus, putTaxiiStatus } from '../queries/taxii-statuses.js';

export const TAXII_DISCOVERY = '/taxii2/';
export const TAXII_API_ROOT = '/taxii2/renkei/';

export interface TaxiiDeps {
  pool: Pool;
  logger: Logger;
  /** Builds the collections' pages, off the event loop. */
  exporter: Exporter;
  /** The operator's choice: the CLEAR collection may be read without a token. */
  publicWithoutToken: boolean;
  /** Where adds are imported: ingest's `POST /v1/stix/bundles`. */
  ingestUrl: string;
  /** The largest add accepted, in bytes (also advertised as the API root's `max_content_length`). */
  maxContentLength?: number;
}

const DEFAULT_MAX_CONTENT_LENGTH = 32 * 1024 * 1024;

/** A `match[…]` parameter given once or repeated. */
const matchValue = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value) => (Array.isArray(value) ? value.join(',') : value));

const objectsQuery = z.object({
  added_after: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).optional(),
  next: z.string().max(400).optional(),
  'match[type]': matchValue,
  'match[id]': matchValue,
  'match[version]': matchValue,
  'match[spec_version]': matchValue,
});
type ObjectsQuery = z.output<typeof objectsQuery>;

const collectionParams = z.object({ collectionId: z.string().max(100) });
const objectParams = collectionParams.extend({ objectId: z.string().max(200) });

const replies = errorReplies(
  'RENKEI_INVALID_REQUEST',
  'RENKEI_NOT_FOUND',
  'RENKEI_NOT_ACCEPTABLE',
  'RENKEI_UNAVAILABLE',
);

/**
 * A TAXII 2.1 server (OASIS TAXII 2.1 CS01): discovery, one API root,
 * collections per audience, objects with `added_after`, `limit`, `next` and
 * `match[…]`, an object by id, its versions, the manifest, and adds that go
 * through ingest's STIX import. What each reader gets is the same export as
 * `GET /v1/stix/bundle`, chosen by the policy, within the collection.
 */
export function taxiiRoutes(app: HttpServer, deps: TaxiiDeps): void {
  const maxContentLength = deps.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH;
  const config = { taxii: true };
  answerTaxiiErrors(app);

  /** The reader, once the request may be answered at all. */
  const readerOf = (request: FastifyRequest): ExportReader => {
    if (!acceptsTaxii(request.headers.accept)) {
      throw new RenkeiError('RENKEI_NOT_ACCEPTABLE', `send Accept: ${TAXII_MEDIA_TYPE}`);
    }
    const reader = request.principal;
    if (reader === null && !deps.publicWithoutToken) throw new RenkeiError('RENKEI_UNAUTHENTICATED');
    return reader;
  };
  const collectionOf = (reader: ExportReader, id: string): TaxiiCollection => {
    const found = collectionsFor(reader, deps).find((c) => c.id === id);
    // A collection the reader may not read is indistinguishable from none.
    if (!found) throw new RenkeiError('RENKEI_NOT_FOUND', `no collection ${id}`);
    return found;
  };
  // A Buffer, so the media type goes out exactly as TAXII writes it (a string would get a charset added).
  const send = (reply: FastifyReply, status: number, body: unknown) =>
    reply
      .code(status)
      .header('content-type', TAXII_MEDIA_TYPE)
      .send(Buffer.from(JSON.stringify(body), 'utf8'));

  /** The page of the collection's objects this query asks for, built in the export worker. */
  const objectPage = async (
    reader: ExportReader,
    collection: TaxiiCollection,
    query: ObjectsQuery,
    only?: string,
  ): Promise<Page> => {
    const page = await deps.exporter.taxiiPage(reader, collection.audience, collection.id, query, only);
    if ('invalidNext' in page) throw invalidField('next', 'is not a next value this server gave');
    return page;
  };
  /** The page of one object's versions (Renkei keeps one), or not found for this reader. */
  const oneObjectPage = async (
    request: FastifyRequest & { params: { collectionId: string; objectId: string }; query: ObjectsQuery },
  ): Promise<Page> => {
    const reader = readerOf(request);
    const collection = collectionOf(reader, request.params.collectionId);
    const page = await objectPage(reader, collection, request.query, request.params.objectId);
    if (page.items.length === 0 && !page.more) {
      throw new RenkeiError('RENKEI_NOT_FOUND', `no object ${request.params.objectId} in this collection`);
    }
    return page;
  };
  const dateHeaders = (reply: FastifyReply, items: readonly PageItem[]) => {
    if (items.length === 0) return;
    reply.header('x-taxii-date-added-first', items[0]!.dateAdded);
    reply.header('x-taxii-date-added-last', items.at(-1)!.dateAdded);
  };

  app.get(
    TAXII_DISCOVERY,
    { config, schema: { summary: 'TAXII 2.1 discovery', tags: ['taxii'], response: replies } },
    async (request, reply) => {
      readerOf(request);
      return send(reply, 200, {
        title: 'Renkei TAXII 2.1',
        description: 'STIX 2.1 from the Renkei hub, per audience, under the TLP rules of the hub.',
        default: TAXII_API_ROOT,
        api_roots: [TAXII_API_ROOT],
      });
    },
  );

  app.get(
    TAXII_API_ROOT,
    { config, schema: { summary: 'TAXII 2.1 API root', tags: ['taxii'], response: replies } },
    async (request, reply) => {
      readerOf(request);
      return send(reply, 200, {
        title: 'Renkei',
        description: 'Reports, alerts and warnings of the Renkei hub.',
        versions: [TAXII_MEDIA_TYPE],
        max_content_length: maxContentLength,
      });
    },
  );

  app.get(
    `${TAXII_API_ROOT}collections/`,
    {
      config,
      schema: { summary: 'TAXII 2.1 collections the caller may read', tags: ['taxii'], response: replies },
    },
    async (request, reply) => {
      const reader = readerOf(request);
      const collections = collectionsFor(reader, deps).map(collectionResource);
      return send(reply, 200, collections.length ? { collections } : {});
    },
  );

  app.get(
    `${TAXII_API_ROOT}collections/:collectionId/`,
    {
      config,
      schema: {
        summary: 'One TAXII 2.1 collection',
        tags: ['taxii'],
        params: collectionParams,
        response: replies,
      },
    },
    async (request, reply) => {
      const reader = readerOf(request);
      return send(reply, 200, collectionResource(collectionOf(reader, request.params.collectionId)));
    },
  );

  app.get(
    `${TAXII_API_ROOT}collections/:collectionId/objects/`,
    {
      config,
      schema: {
        summary:
          'TAXII 2.1 objects of a collection (added_after, limit, next, match[type|id|version|spec_version])',
        tags: ['taxii'],
        params: collectionParams,
        querystring: objectsQuery,
        response: replies,
      },
    },
    async (request, reply) => {
      const reader = readerOf(request);
      const page = await objectPage(reader, collectionOf(reader, request.params.collectionId), request.query);
      dateHeaders(reply, page.items);
      return sendObjects(reply, page);
    },
  );

  app.get(
    `${TAXII_API_ROOT}collections/:collectionId/manifest/`,
    {
      config,
      schema: {
        summary: 'TAXII 2.1 manifest of a collection',
        tags: ['taxii'],
        params: collectionParams,
        querystring: objectsQuery,
        response: replies,
      },
    },
    async (request, reply) => {
      const reader = readerOf(request);
      const page = await objectPage(reader, collectionOf(reader, request.params.collectionId), request.query);
      dateHeaders(reply, page.items);
      return send(
        reply,
        200,
        envelope(page, (item) => ({
          id: item.id,
          date_added: item.dateAdded,
          version: item.version,
          media_type: STIX_MEDIA_TYPE,
        })),
      );
    },
  );

  app.get(
    `${TAXII_API_ROOT}collections/:collectionId/objects/:objectId/`,
    {
      config,
      schema: {
        summary: 'One object of a TAXII 2.1 collection',
        tags: ['taxii'],
        params: objectParams,
        querystring: objectsQuery,
        response: replies,
      },
    },
    async (request, reply) => {
      const page = await oneObjectPage(request);
      dateHeaders(reply, page.items);
      return sendObjects(reply, page);
    },
  );

  app.get(
    `${TAXII_API_ROOT}collections/:collectionId/objects/:objectId/versions/`,
    {
      config,
      schema: {
        summary: 'Versions of one object of a TAXII 2.1 collection',
        tags: ['taxii'],
        params: objectParams,
        querystring: objectsQuery,
        response: replies,
      },
    },
    async (request, reply) => {
      const page = await oneObjectPage(request);
      dateHeaders(reply, page.items);
      return send(reply, 200, {
        more: page.more,
        ...(page.next ? { next: page.next } : {}),
        versions: page.items.map((item) => item.version),
      });
    },
  );

  app.post(
    `${TAXII_API_ROOT}collections/:collectionId/objects/`,
    {
      config,
      bodyLimit: maxContentLength,
      schema: {
        summary: "Add objects to your organisation's collection: imported as STIX by ingest",
        description:
          'The envelope (`{"objects": […]}`) is imported as `POST /v1/stix/bundles` would import it; the answer is a ' +
          'complete status (Kafka holds every report made of it), also at `status/{id}/` on any gateway for a day.',
        tags: ['taxii'],
        params: collectionParams,
        body: z.object({ objects: z.array(z.unknown()) }).loose(),
        response: errorReplies(
          'RENKEI_INVALID_REQUEST',
          'RENKEI_FORBIDDEN',
          'RENKEI_NOT_FOUND',
          'RENKEI_NOT_ACCEPTABLE',
          'RENKEI_IMPORT_REFUSED',
          'RENKEI_PAYLOAD_TOO_LARGE',
          'RENKEI_UNSUPPORTED_MEDIA_TYPE',
          'RENKEI_UNAVAILABLE',
        ),
      },
    },
    async (request, reply) => {
      const reader = readerOf(request);
      if (reader === null) throw new RenkeiError('RENKEI_UNAUTHENTICATED');
      if (!/^application\/taxii\+json/i.test(request.headers['content-type'] ?? '')) {
        throw new RenkeiError('RENKEI_UNSUPPORTED_MEDIA_TYPE', `send Content-Type: ${TAXII_MEDIA_TYPE}`);
      }
      const collection = collectionOf(reader, request.params.collectionId);
      requireAnyRole(reader, REPORTING_ROLES);
      if (!collection.canWrite)
        throw new RenkeiError('RENKEI_FORBIDDEN', 'this collection cannot be added to');
      const requestedAt = new Date().toISOString();
      const answer = await importThroughIngest(deps, taxiiToken(request)!, request.body, reader);
      const status =
        'refused' in answer
          ? statusFromRefusal(request.body.objects, answer.refused, requestedAt)
          : statusFromImport(answer, requestedAt);
      await putTaxiiStatus(deps.pool, reader.organisationId, status);
      return send(reply, 202, status);
    },
  );

  app.get(
    `${TAXII_API_ROOT}status/:statusId/`,
    {
      config,
      schema: {
        summary: 'The status of an add, from any gateway, for a day',
        tags: ['taxii'],
        params: z.object({ statusId: z.string().max(100) }),
        response: replies,
      },
    },
    async (request, reply) => {
      const reader = readerOf(request);
      const { statusId } = request.params;
      const status =
        reader && UUID.test(statusId)
          ? await getTaxiiStatus(deps.pool, reader.organisationId, statusId)
          : undefined;
      if (!status) throw new RenkeiError('RENKEI_NOT_FOUND', `no status ${statusId}`);
      // Statuses stored before `pendings` was written get it on the way out.
      return send(reply, 200, withPendings(status));
    },
  );
}

/**
 * Members submit on ingest: the add is ingest's STIX import, with the
 * caller's own token, so its answer (and its durability) is ingest's. A
 * refusal of the objects becomes a failed status; other error answers of
 * ingest are passed on as they came.
 */
async function importThroughIngest(deps: TaxiiDeps, token: string, body: unknown, reader: Principal) {
  let response: Response;
  try {
    response = await fetch(new URL('/v1/stix/bundles', deps.ingestUrl), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': STIX_MEDIA_TYPE },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (error) {
    deps.logger.warn(
      { err: error, organisationId: reader.organisationId },
      'ingest did not answer a TAXII add',
    );
    throw new RenkeiError('RENKEI_UNAVAILABLE', 'the import could not be made; retry the add', {
      cause: error,
    });
  }
  const payload: unknown = await response.json().catch(() => undefined);
  if (response.status === 202) return importAnswerSchema.parse(payload);
  const error = payload as { code?: string; message?: string; fields?: unknown } | undefined;
  // The add itself is at fault: a failed status says why; retrying it would fail alike.
  if (error?.code === 'RENKEI_INVALID_REQUEST' || error?.code === 'RENKEI_IMPORT_REFUSED') {
    return { refused: refusalOf(error) };
  }
  const passed =
    error?.code &&
    [
      'RENKEI_FORBIDDEN',
      'RENKEI_RATE_LIMITED',
      'RENKEI_PAYLOAD_TOO_LARGE',
      'RENKEI_UNAUTHENTICATED',
    ].includes(error.code);
  if (passed) {
    throw new RenkeiError(error.code as 'RENKEI_INVALID_REQUEST', error.message, {
      details: error.fields ? { fields: error.fields } : undefined,
    });
  }
  deps.logger.warn(
    { status: response.status, organisationId: reader.organisationId },
    'ingest refused a TAXII add',
  );
  // Only ingest being unavailable is worth a retry; any other failure would repeat.
  if (response.status === 503) {
    throw new RenkeiError('RENKEI_UNAVAILABLE', 'the import could not be made; retry the add');
  }
  throw new RenkeiError('RENKEI_INTERNAL', 'ingest could not import the add');
}

function refusalOf(error: { message?: string; fields?: unknown }): ImportRefusal {
  const fields = Array.isArray(error.fields)
    ? error.fields.filter(
        (f): f is { field: string; message: string } =>
          typeof f?.field === 'string' && typeof f?.message === 'string',
      )
    : [];
  return { message: error.message ?? 'ingest refused the objects', fields };
}

type Page = Exclude<TaxiiPage, { invalidNext: true }>;

function envelope<T>(page: Page, map: (item: PageItem) => T) {
  return { more: page.more, ...(page.next ? { next: page.next } : {}), objects: page.items.map(map) };
}

/**
 * The objects envelope, put together from objects the worker serialised:
 * the same bytes `JSON.stringify` of the envelope would give.
 */
function sendObjects(reply: FastifyReply, page: Page) {
  const head = `{"more":${page.more}${page.next ? `,"next":${JSON.stringify(page.next)}` : ''},"objects":[`;
  const body = Buffer.from(`${head}${page.items.map((item) => item.json).join(',')}]}`, 'utf8');
  return reply.code(200).header('content-type', TAXII_MEDIA_TYPE).send(body);
}

/** Status ids are UUIDs; anything else is simply not found. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
