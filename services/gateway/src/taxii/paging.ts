import type { StixObject } from '@renkei/stix';

/** TAXII 2.1 media types (OASIS TAXII 2.1, section 1.6). */
export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

/** The most objects one page holds, whatever `limit` asks. */
export const MAX_PAGE = 1_000;
export const DEFAULT_PAGE = 100;

export interface DatedObject {
  object: StixObject;
  /** When the hub added it: what `added_after` and paging follow. */
  dateAdded: string;
  /** Its version: `modified`, or `created` for objects without one. */
  version: string;
}

export interface ObjectQuery {
  addedAfter?: string | undefined;
  types?: readonly string[] | undefined;
  ids?: readonly string[] | undefined;
  /** `first`, `last`, `all` or version timestamps; the default is `last`. */
  versions?: readonly string[] | undefined;
  specVersions?: readonly string[] | undefined;
  limit: number;
  next?: string | undefined;
}

export interface ObjectPage {
  items: DatedObject[];
  more: boolean;
  next?: string;
}

/** Each object with its date added and version, in TAXII order: by date added, then id. */
export function dated(objects: readonly StixObject[], dateAdded: ReadonlyMap<string, string>): DatedObject[] {
  return objects
    .flatMap((object) => {
      const added = dateAdded.get(object.id);
      if (added === undefined) return [];
      const version = String(object.modified ?? object.created ?? added);
      return [{ object, dateAdded: added, version }];
    })
    .sort((a, b) => compare(a.dateAdded, b.dateAdded) || compare(a.object.id, b.object.id));
}

/**
 * The filters and paging of the objects, manifest and versions endpoints.
 * Renkei keeps one version of each object (its latest view), so `first`,
 * `last` and `all` all match it, and a timestamp matches when it is that
 * version. `next` is the position after the page's last object, so pages
 * neither skip nor repeat while nothing older is added.
 */
export function pageObjects(
  all: readonly DatedObject[],
  query: ObjectQuery,
): ObjectPage | { invalidNext: true } {
  let after: { dateAdded: string; id: string } | undefined;
  if (query.next !== undefined) {
    after = decodeNext(query.next);
    if (after === undefined) return { invalidNext: true };
  }
  const types = query.types && new Set(query.types);
  const ids = query.ids && new Set(query.ids);
  const versions = query.versions;
  const matching = all.filter(({ object, dateAdded, version }) => {
    if (query.addedAfter !== undefined && !(dateAdded > query.addedAfter)) return false;
    if (types && !types.has(object.type)) return false;
    if (ids && !ids.has(object.id)) return false;
    if (
      versions &&
      !versions.some((v) => v === 'first' || v === 'last' || v === 'all' || sameTime(v, version))
    ) {
      return false;
    }
    const spec = typeof object.spec_version === 'string' ? object.spec_version : '2.1';
    if (query.specVersions && !query.specVersions.includes(spec)) return false;
    if (after && (compare(dateAdded, after.dateAdded) || compare(object.id, after.id)) <= 0) return false;
    return true;
  });
  const limit = Math.min(Math.max(query.limit, 1), MAX_PAGE);
  const items = matching.slice(0, limit);
  const more = matching.length > items.length;
  const last = items.at(-1);
  return more && last ? { items, more, next: encodeNext(last.dateAdded, last.object.id) } : { items, more };
}

function encodeNext(dateAdded: string, id: string): string {
  return Buffer.from(`${dateAdded}\n${id}`, 'utf8').toString('base64url');
}

function decodeNext(next: string): { dateAdded: string; id: string } | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(next)) return undefined;
  const [dateAdded, id, ...rest] = Buffer.from(next, 'base64url').toString('utf8').split('\n');
  if (rest.length || !dateAdded || !id || Number.isNaN(Date.parse(dateAdded))) return undefined;
  return { dateAdded, id };
}

function sameTime(a: string, b: string): boolean {
  const x = Date.parse(a);
  return !Number.isNaN(x) && x === Date.parse(b);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether an `Accept` header allows a TAXII 2.1 answer: none given, any type,
 * or `application/taxii+json` without a version or with 2.1.
 */
export function acceptsTaxii(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((range) => {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type === '*/*' || type === 'application/*') return true;
    if (type !== 'application/taxii+json') return false;
    const version = parameters.find((p) => p.startsWith('version='))?.slice('version='.length);
    return version === undefined || version === '2.1';
  });
}

/** A `match[…]` value: comma-separated, blanks dropped. */
export function matchList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  return list.length ? list : undefined;
}
