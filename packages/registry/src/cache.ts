import pg from 'pg';
import { HUB_TYPE_PARSERS, type Pool } from '@renkei/db';
import type { Closable, Logger } from '@renkei/runtime';
import type { Organisation } from '@renkei/schema';
import { listOrganisations } from './queries.js';

/** Set by the `organisations` table's trigger on every change. */
export const REGISTRY_CHANNEL = 'renkei_organisations';

/** The registry as every request is checked against it: in memory, kept fresh. */
export interface OrganisationRegistry extends Closable {
  get(id: string): Organisation | undefined;
  list(): Organisation[];
  /** Reads the table again now (after a change this process made itself). */
  refresh(): Promise<void>;
  /** Called after every refresh that changed something. */
  onChange(listener: () => void): () => void;
}

export interface RegistryCacheOptions {
  pool: Pool;
  /** The cache listens for changes on a connection of its own, outside the pool. */
  databaseUrl: string;
  logger: Logger;
  /**
   * How often the table is read without a notification: the bound on how long
   * a change takes to reach this process if notifications are lost.
   */
  pollEveryMs: number;
}

/**
 * Loads the registry, then keeps it fresh: a `NOTIFY` from the table's
 * trigger makes it read again at once, and a poll every `pollEveryMs` covers a
 * lost listening connection (which the poll also reopens). A failed read
 * keeps the previous copy: the table is small and changes rarely, so a full
 * read is simpler than applying changes one by one.
 */
export async function startRegistryCache(options: RegistryCacheOptions): Promise<OrganisationRegistry> {
  const { pool, logger } = options;
  const log = logger.child({ component: 'registry' });
  let byId = new Map<string, Organisation>();
  let signature = '';
  const listeners = new Set<() => void>();
  let closed = false;
  let listener: pg.Client | undefined;
  let reading: Promise<void> | undefined;
  let again = false;

  const read = async () => {
    const organisations = await listOrganisations(pool);
    const next = JSON.stringify(organisations);
    if (next === signature) return;
    signature = next;
    byId = new Map(organisations.map((organisation) => [organisation.id, organisation]));
    for (const notify of listeners) {
      try {
        notify();
      } catch (error) {
        log.warn({ err: error }, 'registry change listener failed');
      }
    }
  };

  // One read at a time; a request during a read gets one more read after it.
  const refresh = (): Promise<void> => {
    if (reading) {
      again = true;
      return reading;
    }
    reading = (async () => {
      try {
        do {
          again = false;
          await read();
        } while (again);
      } finally {
        reading = undefined;
      }
    })();
    return reading;
  };

  const listen = async () => {
    const client = new pg.Client({
      connectionString: options.databaseUrl,
      application_name: 'renkei-registry',
      types: HUB_TYPE_PARSERS,
    });
    client.on('error', (error) => {
      log.warn({ err: error }, 'registry notifications lost; polling until they are back');
      if (listener === client) listener = undefined;
      void client.end().catch(() => undefined);
    });
    client.on(
      'notification',
      () => void refresh().catch((error: unknown) => log.warn({ err: error }, 'registry read failed')),
    );
    await client.connect();
    await client.query(`LISTEN ${REGISTRY_CHANNEL}`);
    if (closed) {
      await client.end();
      return;
    }
    listener = client;
    // Whatever changed before LISTEN took effect is read now.
    await refresh();
  };

  await refresh();
  await listen();

  let timer: NodeJS.Timeout | undefined;
  const poll = async () => {
    try {
      if (!listener) await listen();
      await refresh();
    } catch (error) {
      log.warn({ err: error }, 'registry read failed; the previous copy stays in use');
    } finally {
      if (!closed) timer = setTimeout(() => void poll(), options.pollEveryMs);
    }
  };
  timer = setTimeout(() => void poll(), options.pollEveryMs);

  return {
    get: (id) => byId.get(id),
    list: () => [...byId.values()],
    refresh,
    onChange(notify) {
      listeners.add(notify);
      return () => listeners.delete(notify);
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      const client = listener;
      listener = undefined;
      await client?.end().catch(() => undefined);
      await reading?.catch(() => undefined);
    },
  };
}
