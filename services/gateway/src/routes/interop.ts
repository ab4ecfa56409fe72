import type { Pool } from '@renkei/db';
import type { HttpServer } from '@renkei/http';
import type { OrganisationRegistry } from '@renkei/registry';
import type { Logger } from '@renkei/runtime';
import { stixRoutes } from './stix.js';
import { taxiiRoutes, type TaxiiDeps } from './taxii.js';

export interface InteropDeps {
  pool: Pool;
  registry: OrganisationRegistry;
  logger: Logger;
  /** TAXII settings; defaults: no anonymous reads, ingest on its default address. */
  taxii?: Partial<
    Pick<TaxiiDeps, 'publicWithoutToken' | 'ingestUrl' | 'maxItems' | 'maxContentLength' | 'cacheMs'>
  >;
}

/** STIX export and the TAXII 2.1 server: the formats partners already use. */
export function interopRoutes(app: HttpServer, deps: InteropDeps): void {
  stixRoutes(app, deps);
  taxiiRoutes(app, {
    pool: deps.pool,
    registry: deps.registry,
    logger: deps.logger,
    publicWithoutToken: deps.taxii?.publicWithoutToken ?? false,
    ingestUrl: deps.taxii?.ingestUrl ?? 'http://127.0.0.1:7400',
    ...(deps.taxii?.maxItems !== undefined ? { maxItems: deps.taxii.maxItems } : {}),
    ...(deps.taxii?.maxContentLength !== undefined ? { maxContentLength: deps.taxii.maxContentLength } : {}),
    ...(deps.taxii?.cacheMs !== undefined ? { cacheMs: deps.taxii.cacheMs } : {}),
  });
}
