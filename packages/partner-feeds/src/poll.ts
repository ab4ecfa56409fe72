import { z } from 'zod';

/**
 * One poll of a partner feed, with the network and the import passed in: the
 * walk over TAXII pages or a MISP manifest, what is imported, and the
 * checkpoint the next poll starts from. The service shell (ingest's poller)
 * gives it an HTTP client and the same import as `POST /v1/stix/bundles` and
 * `POST /v1/misp/events`.
 */

export const TAXII_ACCEPT = 'application/taxii+json;version=2.1';

/** What the next poll starts from, kept in PostgreSQL (`partner_feed_state.checkpoint`). */
export const feedCheckpointSchema = z.object({
  /** TAXII: the `X-TAXII-Date-Added-Last` of the last page imported; sent as `added_after`. */
  addedAfter: z.string().optional(),
  /** MISP: each event's `timestamp` as last imported, by uuid (only events still in the manifest). */
  events: z.record(z.string(), z.number()).optional(),
});
export type FeedCheckpoint = z.infer<typeof feedCheckpointSchema>;

export interface FetchedJson {
  status: number;
  headers: { get(name: string): string | null };
  /** The parsed body; undefined when it was not JSON. */
  body: unknown;
}

/** GETs a URL with the feed's credentials; rejects on a network failure or a timeout. */
export type GetJson = (url: string, accept: string) => Promise<FetchedJson>;

/** What became of one import: counted, or refused as a whole (the partner's data, not the hub, is at fault). */
export interface ImportOutcome {
  /** Reports Kafka accepted now. */
  accepted: number;
  /** Reports Kafka already held (the same id and content, imported before). */
  alreadyAccepted: number;
  /** Set when the input was refused (a 400 or 422 of a push): why. */
  refused?: string;
}

export interface PollResult {
  checkpoint: FeedCheckpoint;
  itemsRead: number;
  reportsAccepted: number;
  reportsAlreadyAccepted: number;
  /** Inputs refused this poll (an event without anything to map, say): for `lastError`, not a failure. */
  refused: string[];
  /** The poll stopped at its bound with more to read: poll again at once. */
  more: boolean;
  /**
   * Set when the poll failed part way (a MISP event file missing, Kafka
   * unavailable): what was imported before keeps its checkpoint, and the
   * poll counts as failed (backoff).
   */
  error?: unknown;
}

/** A poll that failed: the partner answered an error or nonsense. The checkpoint stays where it was. */
export class FeedPollError extends Error {
  override readonly name = 'FeedPollError';
}

const taxiiEnvelopeSchema = z.object({
  more: z.boolean().optional(),
  next: z.string().optional(),
  objects: z.array(z.record(z.string(), z.unknown())).optional(),
});

/** The URL of a collection's objects, with a trailing slash as TAXII 2.1 writes its URLs. */
export function taxiiObjectsUrl(
  collectionUrl: string,
  query: { addedAfter?: string | undefined; next?: string | undefined; limit: number },
): string {
  const base = collectionUrl.endsWith('/') ? collectionUrl : `${collectionUrl}/`;
  const url = new URL('objects/', base);
  if (query.addedAfter) url.searchParams.set('added_after', query.addedAfter);
  if (query.next) url.searchParams.set('next', query.next);
  url.searchParams.set('limit', String(query.limit));
  return url.toString();
}

/** The later of two TAXII timestamps (RFC 3339, compared as instants; equal instants keep the first). */
export function laterTimestamp(a: string | undefined, b: string | undefined | null): string | undefined {
  if (!b || Number.isNaN(Date.parse(b))) return a;
  if (!a) return b;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** The message of a TAXII error resource (or any JSON error), for `lastError`. */
function describeError(status: number, body: unknown): string {
  const error = body as { title?: unknown; description?: unknown; message?: unknown } | undefined;
  const text = [error?.title, error?.description ?? error?.message]
    .filter((v) => typeof v === 'string')
    .join(': ');
  return `the server answered ${status}${text ? ` (${text.slice(0, 300)})` : ''}`;
}

export interface TaxiiPollOptions {
  collectionUrl: string;
  checkpoint: FeedCheckpoint;
  getJson: GetJson;
  /** Imports one envelope of objects as a push would (`POST /v1/stix/bundles` with the feed's TLP declared). */
  importObjects: (objects: Record<string, unknown>[]) => Promise<ImportOutcome>;
  /** Objects asked for per page. */
  pageLimit: number;
  /** Objects read in one poll at most; the rest is read by the next, at once. */
  maxObjects: number;
}

/**
 * Reads every page added since the checkpoint (`added_after`, then `next`,
 * or `added_after` again from `X-TAXII-Date-Added-Last` for servers that page
 * that way), imports them together as one envelope (so a report and the
 * indicators it refers to, on two pages, are imported together), and only
 * then moves the checkpoint. A crash before the move repeats the import,
 * which stores nothing twice: report ids are named from the partner and the
 * source object's id and version.
 */
export async function pollTaxii(options: TaxiiPollOptions): Promise<PollResult> {
  const objects: Record<string, unknown>[] = [];
  let addedAfter = options.checkpoint.addedAfter;
  let lastAdded = addedAfter;
  let next: string | undefined;
  let more = false;
  for (;;) {
    const url = taxiiObjectsUrl(options.collectionUrl, { addedAfter, next, limit: options.pageLimit });
    const response = await options.getJson(url, TAXII_ACCEPT);
    if (response.status !== 200) throw new FeedPollError(describeError(response.status, response.body));
    const envelope = taxiiEnvelopeSchema.safeParse(response.body ?? {});
    if (!envelope.success)
      throw new FeedPollError('the server answered something that is not a TAXII envelope');
    const page = envelope.data.objects ?? [];
    objects.push(...page);
    const headerLast = response.headers.get('x-taxii-date-added-last');
    lastAdded = laterTimestamp(lastAdded, headerLast);
    if (!envelope.data.more) break;
    if (objects.length >= options.maxObjects) {
      more = true;
      break;
    }
    if (envelope.data.next) {
      next = envelope.data.next;
    } else if (headerLast && lastAdded !== addedAfter && page.length > 0) {
      // No next: the server pages by added_after alone.
      next = undefined;
      addedAfter = lastAdded;
    } else {
      throw new FeedPollError(
        'the server says there is more but gives neither next nor X-TAXII-Date-Added-Last',
      );
    }
  }
  const result: PollResult = {
    checkpoint: lastAdded === undefined ? {} : { addedAfter: lastAdded },
    itemsRead: objects.length,
    reportsAccepted: 0,
    reportsAlreadyAccepted: 0,
    refused: [],
    more,
  };
  if (objects.length > 0) {
    const outcome = await options.importObjects(objects);
    result.reportsAccepted = outcome.accepted;
    result.reportsAlreadyAccepted = outcome.alreadyAccepted;
    if (outcome.refused) result.refused.push(outcome.refused);
  }
  return result;
}

/** A MISP feed's manifest: event uuid → its summary; only `timestamp` is read. */
const mispManifestSchema = z.record(
  z.string(),
  z.looseObject({ timestamp: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]) }),
);

/** The events of a manifest to fetch, oldest first: new ones and those whose timestamp moved on since the checkpoint. */
export function mispEventsToFetch(
  manifest: Readonly<Record<string, { timestamp: string | number }>>,
  checkpoint: FeedCheckpoint,
): { uuid: string; timestamp: number }[] {
  const seen = checkpoint.events ?? {};
  return Object.entries(manifest)
    .map(([uuid, entry]) => ({ uuid, timestamp: Number(entry.timestamp) }))
    .filter(({ uuid, timestamp }) => seen[uuid] === undefined || timestamp > seen[uuid])
    .sort((a, b) => a.timestamp - b.timestamp || a.uuid.localeCompare(b.uuid));
}

export interface MispPollOptions {
  /** The feed's directory: `manifest.json` and `<uuid>.json` are under it. */
  feedUrl: string;
  checkpoint: FeedCheckpoint;
  getJson: GetJson;
  /** Imports one event as a push would (`POST /v1/misp/events` with the feed's TLP declared). */
  importEvent: (event: unknown) => Promise<ImportOutcome>;
  /** Events fetched in one poll at most; the rest by the next, at once. */
  maxEvents: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads `manifest.json`, fetches each event new or changed since the
 * checkpoint and imports it; the checkpoint moves event by event, so a
 * failure halfway keeps what was imported. An event the import refuses is
 * recorded and not fetched again until it changes. Events gone from the
 * manifest leave the checkpoint, so it stays the manifest's size.
 */
export async function pollMisp(options: MispPollOptions): Promise<PollResult> {
  const base = options.feedUrl.endsWith('/') ? options.feedUrl : `${options.feedUrl}/`;
  const response = await options.getJson(new URL('manifest.json', base).toString(), 'application/json');
  if (response.status !== 200)
    throw new FeedPollError(`manifest.json: ${describeError(response.status, response.body)}`);
  const manifest = mispManifestSchema.safeParse(response.body);
  if (!manifest.success) {
    throw new FeedPollError(
      'manifest.json is not a MISP feed manifest (an object of event uuids, each with a timestamp)',
    );
  }
  const events: Record<string, number> = {};
  for (const [uuid, timestamp] of Object.entries(options.checkpoint.events ?? {})) {
    if (manifest.data[uuid] !== undefined) events[uuid] = timestamp;
  }
  const result: PollResult = {
    checkpoint: { ...options.checkpoint, events },
    itemsRead: 0,
    reportsAccepted: 0,
    reportsAlreadyAccepted: 0,
    refused: [],
    more: false,
  };
  const due = mispEventsToFetch(manifest.data, options.checkpoint);
  for (const [index, { uuid, timestamp }] of due.entries()) {
    if (index >= options.maxEvents) {
      result.more = true;
      break;
    }
    if (!UUID.test(uuid)) {
      result.refused.push(`manifest entry ${JSON.stringify(uuid.slice(0, 80))} is not an event uuid`);
      events[uuid] = timestamp;
      continue;
    }
    try {
      const eventResponse = await options.getJson(
        new URL(`${uuid}.json`, base).toString(),
        'application/json',
      );
      if (eventResponse.status !== 200) {
        throw new FeedPollError(`${uuid}.json: ${describeError(eventResponse.status, eventResponse.body)}`);
      }
      result.itemsRead += 1;
      const outcome = await options.importEvent(eventResponse.body);
      result.reportsAccepted += outcome.accepted;
      result.reportsAlreadyAccepted += outcome.alreadyAccepted;
      if (outcome.refused) result.refused.push(`${uuid}: ${outcome.refused}`);
    } catch (error) {
      result.error = error;
      break;
    }
    events[uuid] = timestamp;
  }
  return result;
}
