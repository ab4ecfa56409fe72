import { runService } from '@renkei/runtime';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './service.js';

await runService('gateway', () => loadGatewayConfig(), startGateway);
