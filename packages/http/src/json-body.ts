import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RenkeiError } from '@renkei/runtime';
import { formatPath, isStorableText, STORABLE_TEXT_MESSAGE } from '@renkei/schema';
import { invalidField } from './errors.js';
import { scanJsonText, type JsonStructureFinding } from './json-scan.js';

/** `application/json` and structured-syntax JSON types such as `application/stix+json`. */
const JSON_MEDIA_TYPE = /^application\/([a-z0-9.-]+\+)?json\s*(;|$)/i;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Replaces Fastify's JSON parser. Bodies are JSON in UTF-8 and nothing else: a
 * declared charset other than UTF-8 is a 415 rather than text silently read as
 * UTF-8, bytes that are not UTF-8 are a 400, and text PostgreSQL cannot store
 * (NUL, unpaired surrogates) is a 400 naming the field, never a failed insert
 * answered as an outage. Before parsing, one linear pass refuses nesting
 * deeper than `MAX_JSON_DEPTH` (64), keys given twice and reserved keys, so
 * no later walk over the value costs more than the body's length.
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
      const finding = scanJsonText(text);
      if (finding) throw structureError(finding);
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

/**
 * Parses JSON text received outside a request body (a WebSocket frame) under
 * the same rules as a body; throws the same 400s.
 */
export function parseJsonText(text: string): unknown {
  const finding = scanJsonText(text);
  if (finding) throw structureError(finding);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalidField('(body)', `is not valid JSON: ${(error as Error).message}`);
  }
  const unstorable = findUnstorableText(value);
  if (unstorable) throw invalidField(unstorable, STORABLE_TEXT_MESSAGE);
  return value;
}

/** The 400 for what the structural scan found. */
export function structureError(finding: JsonStructureFinding): RenkeiError {
  const field = formatPath(finding.path.map(printableSegment));
  switch (finding.kind) {
    case 'too-deep':
      return invalidField(field, `is nested deeper than ${finding.maxDepth} levels`);
    case 'duplicate-key':
      return invalidField(
        field,
        `the key ${JSON.stringify(printableSegment(finding.key))} appears more than once in the same object; each key may be given once`,
      );
    case 'reserved-key':
      return invalidField(
        field,
        `the key ${JSON.stringify(finding.key)} is not accepted: __proto__, constructor and prototype are reserved names and are refused as keys anywhere in a body`,
      );
  }
}

const MAX_KEY_CHARS = 100;

/** A key as an error message may quote it: storable, printable and short. */
function printableSegment<Segment extends PropertyKey>(segment: Segment): Segment | string {
  if (typeof segment !== 'string') return segment;
  const storable = isStorableText(segment) ? segment : segment.replace(/[^\x20-\x7e]/g, '?');
  return storable.length > MAX_KEY_CHARS ? `${storable.slice(0, MAX_KEY_CHARS)}…` : storable;
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

/**
 * The path of the first string (value or key) PostgreSQL could not store, if
 * any. The walk keeps its own stack of open containers, and the path is read
 * off it only when something is found, so it is linear in the value's size
 * whatever its depth.
 */
export function findUnstorableText(value: unknown): string | undefined {
  if (typeof value === 'string') return isStorableText(value) ? undefined : formatPath([]);
  const open: { keys: readonly PropertyKey[] | undefined; items: readonly unknown[]; next: number }[] = [];
  const enter = (container: unknown) => {
    if (Array.isArray(container)) open.push({ keys: undefined, items: container, next: 0 });
    else if (container !== null && typeof container === 'object') {
      const entries = Object.entries(container);
      open.push({ keys: entries.map(([key]) => key), items: entries.map(([, item]) => item), next: 0 });
    }
  };
  const path = () =>
    formatPath(open.map(({ keys, next }) => printableSegment(keys ? keys[next - 1]! : next - 1)));
  enter(value);
  while (open.length > 0) {
    const top = open[open.length - 1]!;
    if (top.next >= top.items.length) {
      open.pop();
      continue;
    }
    const key = top.keys?.[top.next];
    const item = top.items[top.next];
    top.next += 1;
    if (typeof key === 'string' && !isStorableText(key)) return path();
    if (typeof item === 'string') {
      if (!isStorableText(item)) return path();
    } else enter(item);
  }
  return undefined;
}
