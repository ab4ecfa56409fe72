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
export { loadWarningLists } from './warning-lists.js';
