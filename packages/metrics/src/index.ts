export { createMetrics, observePool, type HubMetrics, type PoolCounts } from './metrics.js';
