import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { createPool, isDatabaseUnavailable } from '@renkei/db';
import type { ExportReader, TaxiiAudience } from '@renkei/policy';
import { ExportBuilder, type TaxiiPageQuery } from './builder.js';

/**
 * The export worker: a thread of the gateway that reads and builds STIX
 * exports and TAXII pages with a PostgreSQL pool of its own, so seconds of
 * CPU work never hold the event loop that answers `/healthz` and feeds the
 * stream. A bundle stays here and goes to the gateway one piece at a time,
 * as the socket takes it: a 30 MiB buffer handed to the event loop's isolate
 * counts as external memory there and set off full collections that paused
 * `/healthz` (tens of ms each, hundreds on a busy machine; `--trace-gc` in
 * the read-budget benchmark showed them "external memory pressure"). Pieces
 * of `CHUNK_BYTES` die young and go in scavenges. TAXII pages go back as
 * small pages of pre-serialised objects.
 */
/** One piece of a bundle on its way out: small enough to die in a scavenge, large enough to keep round trips few. */
export const CHUNK_BYTES = 256 * 1024;
/** A bundle nobody asked a piece of for this long is dropped (its client stalled or the gateway lost track). */
const STREAM_IDLE_MS = 120_000;
/** Nice value of the export thread: well below the event loop's share, never starved outright. */
const EXPORT_THREAD_NICENESS = 10;

export interface ExportWorkerData {
  databaseUrl: string;
  maxItems: number;
  cacheMs: number;
}

export type ExportRequest =
  | { id: number; kind: 'bundle'; reader: ExportReader; since: string | null; limit: number }
  /** The next piece of a built bundle; `stream` is the id of the request that built it. */
  | { id: number; kind: 'chunk'; stream: number }
  /** The client went away (or everything was read): forget the bundle. */
  | { id: number; kind: 'release'; stream: number }
  | {
      id: number;
      kind: 'taxii';
      reader: ExportReader;
      audience: TaxiiAudience;
      collectionId: string;
      query: TaxiiPageQuery;
      only?: string;
    }
  | { id: number; kind: 'close' };

const data = workerData as ExportWorkerData;

// On Linux a thread has a nice value of its own, and priority 0 names the
// calling thread: this one yields the CPU to the gateway's event loop
// (heartbeats, /healthz, the live stream) whenever both want it, so an export
// takes longer on a busy machine instead of delaying everyone else.
try {
  setPriority(0, EXPORT_THREAD_NICENESS);
} catch {
  // Not permitted or not supported here: the export runs at the gateway's priority.
}
const pool = createPool(data.databaseUrl, { max: 2, applicationName: 'renkei-gateway-exports' });
const builder = new ExportBuilder({
  db: pool,
  maxItems: data.maxItems,
  cacheMs: data.cacheMs,
  names: async () => {
    const { rows } = await pool.query<{ id: string; name: string }>('SELECT id, name FROM organisations');
    const names = new Map(rows.map((row) => [row.id, row.name]));
    return (id: string) => names.get(id);
  },
});

/** Built bundles being read, by the id of the request that built them. */
const streams = new Map<number, { bytes: Uint8Array; offset: number; idle: NodeJS.Timeout }>();
const forget = (stream: number) => {
  const open = streams.get(stream);
  if (!open) return;
  clearTimeout(open.idle);
  streams.delete(stream);
};
const idleTimer = (stream: number) => setTimeout(() => forget(stream), STREAM_IDLE_MS).unref();

parentPort!.on('message', (request: ExportRequest) => {
  void answer(request);
});

async function answer(request: ExportRequest): Promise<void> {
  try {
    switch (request.kind) {
      case 'bundle': {
        const { bytes, nextSince } = await builder.bundle(request.reader, {
          since: request.since,
          limit: request.limit,
        });
        streams.set(request.id, { bytes, offset: 0, idle: idleTimer(request.id) });
        parentPort!.postMessage({ id: request.id, ok: true, size: bytes.byteLength, nextSince });
        return;
      }
      case 'chunk': {
        const open = streams.get(request.stream);
        if (!open) throw new Error(`no bundle ${request.stream} is being read`);
        clearTimeout(open.idle);
        // A copy of its own, so it can be transferred without the rest of the bundle.
        const chunk = open.bytes.slice(open.offset, open.offset + CHUNK_BYTES);
        open.offset += chunk.byteLength;
        if (open.offset >= open.bytes.byteLength) streams.delete(request.stream);
        else open.idle = idleTimer(request.stream);
        parentPort!.postMessage({ id: request.id, ok: true, bytes: chunk }, [chunk.buffer]);
        return;
      }
      case 'release':
        forget(request.stream);
        parentPort!.postMessage({ id: request.id, ok: true });
        return;
      case 'taxii': {
        const page = await builder.taxiiPage(
          request.reader,
          request.audience,
          request.collectionId,
          request.query,
          request.only,
        );
        parentPort!.postMessage({ id: request.id, ok: true, page });
        return;
      }
      case 'close':
        await pool.end();
        parentPort!.postMessage({ id: request.id, ok: true });
        parentPort!.close();
        return;
    }
  } catch (error) {
    parentPort!.postMessage({
      id: request.id,
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      unavailable: isDatabaseUnavailable(error),
    });
  }
}
