import type { ReadCost, ReadCostTable } from '@renkei/auth';
import { TAXII_API_ROOT } from './routes/taxii.js';

/** A page of a list (alerts, warnings, reports, the audit log): up to a few hundred rows and their views. */
const LIST = { cost: 5 };
/**
 * An export or a TAXII read: each builds the reader's whole export of what it
 * asks for (up to 10^4 items per kind), so it costs what ten lists do and
 * takes an in-flight slot. A TAXII object or its versions is found by
 * building the collection, so it costs the same.
 */
const EXPORT: ReadCost = { cost: 50, expensive: true };
/**
 * A TAXII objects or manifest page. A later page of a walk (`next`) is cut
 * from the build the first page made, kept `TAXII_CACHE_MS`, so it costs what
 * a list does: a client paging by `next` pays for the build once, not per page.
 */
const TAXII_PAGE: ReadCost = {
  cost: (request) => ((request.query as { next?: unknown } | undefined)?.next === undefined ? 50 : 5),
  expensive: true,
};

/**
 * A bulk lookup: a list's worth, plus one unit per hundred values (10,000
 * values cost 105, a whole burst), and an in-flight slot while it runs.
 */
const LOOKUP: ReadCost = {
  cost: (request) => {
    const values = (request.body as { values?: unknown } | undefined)?.values;
    return 5 + Math.ceil((Array.isArray(values) ? values.length : 0) / 100);
  },
  expensive: true,
};

/**
 * What each read of the gateway costs, by route pattern; anything else (one
 * alert, one warning, the TAXII discovery and collection resources, the
 * registry) costs 1 (`DEFAULT_READ_COST`). The integration test checks that
 * every pattern here is a route the gateway declares.
 */
export const GATEWAY_READ_COSTS: ReadCostTable = {
  'GET /v1/alerts': LIST,
  // Cached for half a second across every viewer, but a tab asks after each event: priced as a list.
  'GET /v1/alerts/summary': LIST,
  'GET /v1/warnings': LIST,
  'GET /v1/reports': LIST,
  'GET /v1/audit': LIST,
  // Streams a time range of the whole log: priced and slotted as an export.
  'GET /v1/audit/export': EXPORT,
  'GET /v1/watchlist': LIST,
  'GET /v1/exclusions': LIST,
  'GET /v1/organisations': LIST,
  'GET /v1/search': LIST,
  'POST /v1/lookup': LOOKUP,
  'GET /v1/stix/bundle': EXPORT,
  [`GET ${TAXII_API_ROOT}collections/:collectionId/objects/`]: TAXII_PAGE,
  [`GET ${TAXII_API_ROOT}collections/:collectionId/manifest/`]: TAXII_PAGE,
  [`GET ${TAXII_API_ROOT}collections/:collectionId/objects/:objectId/`]: EXPORT,
  [`GET ${TAXII_API_ROOT}collections/:collectionId/objects/:objectId/versions/`]: EXPORT,
};
