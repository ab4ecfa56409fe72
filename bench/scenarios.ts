import { consolePage } from './console.js';
import { correlation } from './correlation.js';
import { correlator } from './correlator.js';
import { endToEnd } from './end-to-end.js';
import { fanout } from './fanout.js';
import { ingestHttp } from './ingest-http.js';
import { ingestKafka } from './ingest-kafka.js';
import type { Scenario } from './lib/scenario.js';
import { readBudget } from './read-budget.js';
import { resources } from './resources.js';
import { search } from './search.js';

/**
 * Every scenario `npm run bench` runs, in this order. A new one is a module
 * exporting a {@link Scenario}, added here (bench/README.md says how); the
 * smoke test runs whatever is listed.
 */
export const SCENARIOS: Scenario[] = [
  ingestHttp,
  ingestKafka,
  correlator,
  correlation,
  endToEnd,
  fanout,
  readBudget,
  search,
  resources,
  consolePage,
];
