import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RenkeiError } from '@renkei/runtime';
import { formatPath, isStorableText, STORABLE_TEXT_MESSAGE } from '@renkei/schema';
import { invalidField } from './errors.js';

/** `application/json` and structured-syntax JSON types such as `application/stix+json`. */
const JSON_MEDIA_TYPE = /^application\/([a-z0-9.-]+\+)?json\s*(;|$)/i;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Replaces Fastify's JSON parser. Bodies are JSON in UTF-8 and nothing else: a
 * declared charset other than UTF-8 is a 415 rather than text silently read as
 * UTF-8, bytes that are not UTF-8 are a 400, and text PostgreSQL cannot store
 * (NUL, unpaired surrogates) is a 400 naming the field, never a failed insert
 * answered as an outage.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(JSON_MEDIA_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
    try {
      const charset = declaredCharset(request);
      if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
        throw new RenkeiError(
          'RENKEI_UNSUPPORTED_MEDIA_TYPE',
          `the body must be JSON encoded as UTF-8, not ${charset}`,
        );
      }
      let text: string;
      try {
        text = utf8.decode(body as Buffer);
      } catch {
        throw invalidField('(body)', 'is not valid UTF-8');
      }
      parseJson(request, text, (error, value) => {
        if (error) return done(error);
        const unstorable = findUnstorableText(value);
        if (unstorable) return done(invalidField(unstorable, STORABLE_TEXT_MESSAGE));
        done(null, value);
      });
    } catch (error) {
      done(error as Error);
    }
  });
}

function declaredCharset(request: FastifyRequest): string | undefined {
  const header = request.headers['content-type'] ?? '';
  for (const parameter of header.split(';').slice(1)) {
    const [name, value] = parameter.split('=').map((part) => part.trim());
    if (name?.toLowerCase() === 'charset' && value !== undefined) {
      return value.replace(/^"|"$/g, '').toLowerCase();
    }
  }
  return undefined;
}

/** The path of the first string (value or key) PostgreSQL could not store, if any. */
export function findUnstorableText(value: unknown, path: PropertyKey[] = []): string | undefined {
  if (typeof value === 'string') return isStorableText(value) ? undefined : formatPath(path);
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findUnstorableText(item, [...path, index]);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (!isStorableText(key)) return formatPath([...path, key.replace(/[^\x20-\x7e]/g, '?')]);
      const found = findUnstorableText(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}
