export { buildIngestApp, type IngestDeps } from './app.js';
export { ingestConfigSchema, loadIngestConfig, type IngestConfig } from './config.js';
export { startIngest, type RunningIngest } from './service.js';
export { canonicalJson, contentSha256 } from './content-hash.js';
