import { runService } from '@renkei/runtime';
import { loadCorrelatorConfig } from './config.js';
import { startCorrelator } from './service.js';

await runService('correlator', () => loadCorrelatorConfig(), startCorrelator);
