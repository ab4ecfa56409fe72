import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { createPool, isDatabaseUnavailable } from '@renkei/db';
import type { ExportReader, TaxiiAudience } from '@renkei/policy';
import { ExportBuilder, type TaxiiPageQuery } from './builder.js';

/**
 * The export worker: a thread of the gateway that reads and builds STIX
 * exports and TAXII pages with a PostgreSQL pool of its own, so seconds of
 * CPU work never hold the event loop that answers `/healthz` and feeds the
 * stream. Results go back as bytes (transferred, not copied) or as small
 * pages of pre-serialised objects.
 */
/** Nice value of the export thread: well below the event loop's share, never starved outright. */
const EXPORT_THREAD_NICENESS = 10;

export interface ExportWorkerData {
  databaseUrl: string;
  maxItems: number;
  cacheMs: number;
}

export type ExportRequest =
  | { id: number; kind: 'bundle'; reader: ExportReader; since: string | null; limit: number }
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
        parentPort!.postMessage({ id: request.id, ok: true, bytes, nextSince }, [
          bytes.buffer as ArrayBuffer,
        ]);
        return;
      }
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
