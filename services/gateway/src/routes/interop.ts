import type { Pool } from '@renkei/db';
import type { HttpServer } from '@renkei/http';
import type { Logger } from '@renkei/runtime';
import { createExporter } from '../exports/exporter.js';
import { stixRoutes } from './stix.js';
import { taxiiRoutes, type TaxiiDeps } from './taxii.js';

export interface InteropDeps {
  pool: Pool;
  logger: Logger;
  /**
   * Where the export worker connects (it keeps a pool of its own); default:
   * the connection string of `pool`.
   */
  databaseUrl?: string;
  /** TAXII settings; defaults: no anonymous reads, ingest on its default address. */
  taxii?: Partial<Pick<TaxiiDeps, 'publicWithoutToken' | 'ingestUrl' | 'maxContentLength'>> & {
    /** Reports, alerts and warnings read per kind for one TAXII build; beyond, `more` and `next` go on. */
    maxItems?: number;
    /** How long a built collection serves further pages of the same query. Default 30 s; 0 builds every page. */
    cacheMs?: number;
  };
}

/** STIX export and the TAXII 2.1 server: the formats partners already use. */
export function interopRoutes(app: HttpServer, deps: InteropDeps): void {
  const exporter = createExporter({
    databaseUrl: deps.databaseUrl ?? connectionStringOf(deps.pool),
    maxItems: deps.taxii?.maxItems ?? 10_000,
    cacheMs: deps.taxii?.cacheMs ?? 30_000,
    logger: deps.logger,
  });
  app.addHook('onClose', () => exporter.close());
  stixRoutes(app, { exporter });
  taxiiRoutes(app, {
    pool: deps.pool,
    logger: deps.logger,
    exporter,
    publicWithoutToken: deps.taxii?.publicWithoutToken ?? false,
    ingestUrl: deps.taxii?.ingestUrl ?? 'http://127.0.0.1:7400',
    ...(deps.taxii?.maxContentLength !== undefined ? { maxContentLength: deps.taxii.maxContentLength } : {}),
  });
}

function connectionStringOf(pool: Pool): string {
  const url = (pool as unknown as { options?: { connectionString?: string } }).options?.connectionString;
  if (!url) throw new Error('the export worker needs a database URL: pass databaseUrl');
  return url;
}
