import type { TokenVerifier } from '@renkei/auth';
import { isBrokerUnavailable, type Producer } from '@renkei/bus';
import { isDatabaseUnavailable, type Pool } from '@renkei/db';
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
  /** Whether PostgreSQL and Kafka answer. */
  checkReadiness: () => Promise<boolean>;
}

/** The ingest API, ready to listen or to answer `inject()` in tests. */
export async function buildIngestApp(deps: IngestDeps): Promise<HttpApp> {
  const http = await createHttpApp({
    service: 'ingest',
    logger: deps.logger,
    verifyToken: deps.verifyToken,
    checkReadiness: deps.checkReadiness,
    transientErrors: [isDatabaseUnavailable, isBrokerUnavailable],
    openapi: {
      title: 'Renkei ingest',
      description: 'Where member organisations submit incident reports.',
    },
  });
  reportRoutes(http.app, deps);
  return http;
}
