export { correlatorConfigSchema, loadCorrelatorConfig, type CorrelatorConfig } from './config.js';
export { processReport, type ProcessOutcome } from './process-report.js';
export { startCorrelator } from './service.js';
export { lockIdsFor } from './locks.js';
