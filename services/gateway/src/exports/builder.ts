import type { Queryable } from '@renkei/db';
import { audienceOf, audienceReader, type ExportReader, type TaxiiAudience } from '@renkei/policy';
import { buildStixExport, type OrganisationNames } from '../stix/build.js';
import { loadExportSources } from '../stix/load.js';
import {
  dated,
  DEFAULT_PAGE,
  matchList,
  pageObjects,
  type DatedObject,
  type ObjectPage,
} from '../taxii/paging.js';

/** Built collections kept at once (each up to the objects of `maxItems` items per kind). */
const CACHE_ENTRIES = 32;

/** What a TAXII objects, manifest or versions request asks of a collection. */
export interface TaxiiPageQuery {
  added_after?: string | undefined;
  limit?: number | undefined;
  next?: string | undefined;
  'match[type]'?: string | undefined;
  'match[id]'?: string | undefined;
  'match[version]'?: string | undefined;
  'match[spec_version]'?: string | undefined;
}

/** One object of a page, serialised: the route puts the pieces together without parsing them again. */
export interface PageItem {
  json: string;
  id: string;
  dateAdded: string;
  version: string;
}

export type TaxiiPage = { items: PageItem[]; more: boolean; next?: string } | { invalidNext: true };

export interface ExportBuilderOptions {
  db: Queryable;
  /** Registered names, read once per build, for the organisations a reader may see named. */
  names: () => Promise<OrganisationNames>;
  /** Reports, alerts and warnings read per kind for one TAXII build; beyond, `more` and `next` go on. */
  maxItems: number;
  /** How long a built collection serves further pages of the same query; 0 builds every page. */
  cacheMs: number;
}

/**
 * Builds what exports answer: a STIX bundle's bytes, or a page of a TAXII
 * collection. CPU-heavy (a large export is seconds of work), so the gateway
 * runs it in a worker thread (`exporter.ts`), never on the event loop that
 * serves `/healthz` and the stream.
 */
export class ExportBuilder {
  readonly #options: ExportBuilderOptions;
  readonly #cache = new Map<string, { at: number; all: DatedObject[]; cut: string | null }>();

  constructor(options: ExportBuilderOptions) {
    this.#options = options;
  }

  /** `GET /v1/stix/bundle`: the bundle as UTF-8 bytes, and where to go on from. */
  async bundle(
    reader: ExportReader,
    filter: { since: string | null; limit: number },
  ): Promise<{ bytes: Uint8Array; nextSince: string | null }> {
    const { sources, nextSince } = await loadExportSources(this.#options.db, reader, filter);
    const { bundle } = buildStixExport(reader, sources, await this.#options.names());
    return { bytes: new TextEncoder().encode(JSON.stringify(bundle)), nextSince };
  }

  /**
   * The collection's objects after `since`, dated and ordered. Building costs
   * about two exports of what it holds (bench/taxii-page.ts), and a client
   * paging through with `next` asks for the same one again and again, so a
   * build serves the same audience, collection and start for `cacheMs`, to
   * pages that carry a `next`. A request without one starts a walk (or asks
   * for one object) and must see what the hub holds now: it builds afresh.
   */
  async #built(
    reader: ExportReader,
    audience: TaxiiAudience,
    collectionId: string,
    since: string | null,
    reuse: boolean,
  ) {
    const effective = audienceReader(audience, reader);
    // Readers of one audience get the same views (the policy's guarantee), so they share builds.
    const key = `${effective === null ? 'anonymous' : audienceOf(effective)}|${collectionId}|${since ?? ''}`;
    const now = Date.now();
    const hit = this.#cache.get(key);
    const { cacheMs } = this.#options;
    if (reuse && hit && now - hit.at < cacheMs) return hit;
    const { sources, nextSince } = await loadExportSources(
      this.#options.db,
      effective,
      { since, limit: this.#options.maxItems },
      audience,
    );
    const { bundle, dateAdded } = buildStixExport(effective, sources, await this.#options.names(), audience);
    // `cut`: where the items read stop (null: they are all there).
    const entry = { at: now, all: dated(bundle.objects, dateAdded), cut: nextSince };
    if (cacheMs > 0) {
      this.#cache.delete(key);
      this.#cache.set(key, entry);
      for (const old of this.#cache.keys()) {
        if (this.#cache.size <= CACHE_ENTRIES) break;
        this.#cache.delete(old);
      }
    }
    return entry;
  }

  /** The page of the collection's objects this query asks for (`only`: one object's). */
  async taxiiPage(
    reader: ExportReader,
    audience: TaxiiAudience,
    collectionId: string,
    query: TaxiiPageQuery,
    only?: string,
  ): Promise<TaxiiPage> {
    const addedAfter = query.added_after ? new Date(query.added_after).toISOString() : undefined;
    let build = await this.#built(
      reader,
      audience,
      collectionId,
      addedAfter ?? null,
      query.next !== undefined,
    );
    // A build that stopped short of this `next` position: build again from the position.
    // Builds hold whole milliseconds, so a position at the end of one (a page that ended
    // at a build's cut) goes on after it; any other goes on from a millisecond before it,
    // so the objects of its millisecond after its id still come.
    const position = query.next ? decodePosition(query.next) : undefined;
    if (build.cut !== null && position !== undefined && position.dateAdded >= build.cut) {
      const from = position.id === END_OF_MILLISECOND ? position.dateAdded : earlier(position.dateAdded);
      build = await this.#built(
        reader,
        audience,
        collectionId,
        addedAfter !== undefined && addedAfter > from ? addedAfter : from,
        true,
      );
    }
    const filters = {
      addedAfter,
      types: matchList(query['match[type]']),
      ids: only ? [only] : matchList(query['match[id]']),
      versions: matchList(query['match[version]']),
      specVersions: matchList(query['match[spec_version]']),
      limit: query.limit ?? DEFAULT_PAGE,
      next: query.next,
    };
    const { cut } = build;
    if (cut === null) return serialised(pageObjects(build.all, filters));
    // Past the items read the export is incomplete: answer what lies up to the cut (a build
    // never ends inside a millisecond), then go on after it.
    const complete = build.all.filter((o) => o.dateAdded <= cut);
    const page = pageObjects(complete, filters);
    if ('invalidNext' in page || page.more) return serialised(page);
    return serialised({ ...page, more: true, next: encodePosition(cut, END_OF_MILLISECOND) });
  }
}

function serialised(page: ObjectPage | { invalidNext: true }): TaxiiPage {
  if ('invalidNext' in page) return page;
  return {
    items: page.items.map((item) => ({
      json: JSON.stringify(item.object),
      id: item.object.id,
      dateAdded: item.dateAdded,
      version: item.version,
    })),
    more: page.more,
    ...(page.next ? { next: page.next } : {}),
  };
}

/** Sorts after every STIX id: a position after all objects of its millisecond. */
const END_OF_MILLISECOND = '\uffff';

/** The date added and id of the position a `next` value names. */
function decodePosition(next: string): { dateAdded: string; id: string } | undefined {
  const [dateAdded, id] = Buffer.from(next, 'base64url').toString('utf8').split('\n');
  const at = Date.parse(dateAdded ?? '');
  return Number.isNaN(at) || id === undefined ? undefined : { dateAdded: new Date(at).toISOString(), id };
}

/** A `next` value for a position: after every object before it in (date added, id) order. */
function encodePosition(dateAdded: string, id: string): string {
  return Buffer.from(`${dateAdded}\n${id}`, 'utf8').toString('base64url');
}

function earlier(time: string): string {
  return new Date(Date.parse(time) - 1).toISOString();
}
