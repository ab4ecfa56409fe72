import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { ExportReader, TaxiiAudience } from '@renkei/policy';
import { RenkeiError, type Logger } from '@renkei/runtime';
import type { TaxiiPage, TaxiiPageQuery } from './builder.js';
import type { ExportRequest, ExportWorkerData } from './worker.js';

/** The gateway's side of the export worker: every STIX export and TAXII page is built there. */
export interface Exporter {
  bundle(
    reader: ExportReader,
    filter: { since: string | null; limit: number },
  ): Promise<{ body: Readable; size: number; nextSince: string | null }>;
  taxiiPage(
    reader: ExportReader,
    audience: TaxiiAudience,
    collectionId: string,
    query: TaxiiPageQuery,
    only?: string,
  ): Promise<TaxiiPage>;
  close(): Promise<void>;
}

type Reply =
  | {
      id: number;
      ok: true;
      bytes?: Uint8Array;
      size?: number;
      nextSince?: string | null;
      page?: TaxiiPage;
    }
  | { id: number; ok: false; message: string; unavailable: boolean };

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * Starts the export worker on first use and again after it died. Exports
 * queue in that one thread: however many members pull large exports at
 * once, they share one core, and the event loop of the gateway only moves
 * bytes, a piece at a time as the client reads them (see the worker for why).
 */
export function createExporter(options: ExportWorkerData & { logger: Logger }): Exporter {
  const { logger, ...data } = options;
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();

  const start = (): Worker => {
    const entry = new URL(`./worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
    // The sources run through tsx, in the worker as in the process: a thread loads its own modules.
    const started = entry.pathname.endsWith('.ts')
      ? new Worker(
          `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`,
          { eval: true, workerData: data },
        )
      : new Worker(entry, { workerData: data });
    started.on('message', (reply: Reply) => {
      const waiting = pending.get(reply.id);
      pending.delete(reply.id);
      // An idle worker does not keep the process alive; one with work does.
      if (pending.size === 0) started.unref();
      waiting?.resolve(reply);
    });
    const fail = (error: Error) => {
      if (worker !== started) return;
      worker = undefined;
      logger.error(
        { err: error },
        'export worker failed: the exports it was building fail, the next starts it again',
      );
      for (const [id, waiting] of pending) {
        pending.delete(id);
        waiting.reject(error);
      }
    };
    started.on('error', fail);
    started.on('exit', (code) => fail(new Error(`the export worker exited with code ${code}`)));
    return started;
  };

  const ask = async (request: WithoutId<ExportRequest>): Promise<Reply> => {
    worker ??= start();
    const id = (nextId += 1);
    const reply = await new Promise<Reply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker!.ref();
      worker!.postMessage({ ...request, id });
    });
    if (!reply.ok) {
      if (reply.unavailable)
        throw new RenkeiError('RENKEI_UNAVAILABLE', 'the database did not answer: retry');
      throw new Error(`export failed: ${reply.message}`);
    }
    return reply;
  };

  return {
    async bundle(reader, { since, limit }) {
      const built = (await ask({ kind: 'bundle', reader, since, limit })) as Reply & { ok: true };
      const size = built.size!;
      let sent = 0;
      const body = new Readable({
        // One piece asked for at a time: the socket's pace sets the worker's.
        highWaterMark: 0,
        read() {
          ask({ kind: 'chunk', stream: built.id }).then(
            (reply) => {
              const bytes = reply.ok ? reply.bytes! : new Uint8Array();
              sent += bytes.byteLength;
              this.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
              if (sent >= size) this.push(null);
            },
            (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
          );
        },
        destroy(error, callback) {
          // A client that went away early leaves the rest in the worker: drop it there.
          if (sent < size && worker) void ask({ kind: 'release', stream: built.id }).catch(() => {});
          callback(error);
        },
      });
      if (size === 0) body.push(null);
      return { body, size, nextSince: built.nextSince ?? null };
    },
    async taxiiPage(reader, audience, collectionId, query, only) {
      const reply = (await ask({
        kind: 'taxii',
        reader,
        audience,
        collectionId,
        query,
        ...(only === undefined ? {} : { only }),
      })) as Reply & { ok: true };
      return reply.page!;
    },
    async close() {
      const running = worker;
      if (!running) return;
      // From here on the worker's exit is expected, not a failure.
      worker = undefined;
      const id = (nextId += 1);
      const closed = new Promise<unknown>((resolve) => {
        pending.set(id, { resolve, reject: resolve });
        running.postMessage({ kind: 'close', id } satisfies ExportRequest);
      });
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      await running.terminate();
      for (const [waitingId, waiting] of pending) {
        pending.delete(waitingId);
        waiting.reject(new RenkeiError('RENKEI_UNAVAILABLE', 'the gateway is closing: retry'));
      }
    },
  };
}
