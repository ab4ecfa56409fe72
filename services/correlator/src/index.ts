export {
  correlationSettings,
  correlatorConfigSchema,
  loadCorrelatorConfig,
  type CorrelatorConfig,
} from './config.js';
export {
  backfillNextEntry,
  processReport,
  type CorrelationContext,
  type ProcessOutcome,
} from './process-report.js';
export { startCorrelator } from './service.js';
export { lockIdsFor } from './locks.js';
export { loadWarningLists } from '@renkei/indicators/load';
export { processChunk, type ChunkItem } from './process-batch.js';
/** The chunk's set-based inserts: the benchmark's floor writes the same rows with them. */
export { insertIndicatorsMany, insertReports, insertSightingsMany } from './batch-store.js';
