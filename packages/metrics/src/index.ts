export {
  createMetrics,
  observeHop,
  observePool,
  REPORT_HOPS,
  type HubMetrics,
  type PoolCounts,
  type ReportHop,
} from './metrics.js';
