export { buildGatewayApp, type GatewayDeps } from './app.js';
export { gatewayConfigSchema, loadGatewayConfig, type GatewayConfig } from './config.js';
export { startGateway, type RunningGateway } from './service.js';
export { CLOSE_CODES, StreamHub, type StreamSocket, type Subscriber } from './stream-hub.js';
