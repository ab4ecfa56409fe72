export { buildGatewayApp, type GatewayDeps } from './app.js';
export { gatewayConfigSchema, loadGatewayConfig, type GatewayConfig } from './config.js';
export { startGateway, type RunningGateway } from './service.js';
export {
  CLOSE_CODES,
  StreamConnection,
  StreamHub,
  type ConnectOptions,
  type FeedReader,
  type StreamHubOptions,
  type StreamSocket,
} from './stream-hub.js';
export { matchesFilter, normaliseFilter } from './stream-filter.js';
export { createOriginPolicy, type OriginPolicy } from './origins.js';
export { nextTriageState, type TriageRequest } from './triage.js';
export { hubCursorSealers, type CursorSealers } from './cursors.js';
