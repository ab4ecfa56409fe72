import { runService } from '@renkei/runtime';
import { loadIngestConfig } from './config.js';
import { startIngest } from './service.js';

await runService('ingest', () => loadIngestConfig(), startIngest);
