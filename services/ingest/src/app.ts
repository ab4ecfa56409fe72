import type { TokenVerifier } from '@renkei/auth';
import type { Producer } from '@renkei/bus';
import type { Pool } from '@renkei/db';
import { createHttpApp, type HttpApp } from '@renkei/http';
import type { Logger } from '@renkei/runtime';
import { reportRoutes } from './routes/reports.js';

export interface IngestDeps {
  logger: Logger;
  pool: Pool;
  producer: Producer;
  reportsTopic: string;
  verifyToken: TokenVerifier;
  kafkaTimeoutMs: number;
  /** Whether the producer holds a live connection to the broker. */
  isProducerConnected: () => boolean;
}

export async function buildIngestApp(deps: IngestDeps): Promise<HttpApp> {
  const http = await createHttpApp({
    logger: deps.logger,
    verifyToken: deps.verifyToken,
    checkReadiness: async () => {
      await deps.pool.query('SELECT 1');
      return deps.isProducerConnected();
    },
  });
  reportRoutes(http.app, deps);
  return http;
}
