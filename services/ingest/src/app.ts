import type { TokenVerifier } from '@renkei/auth';
import { isBrokerUnavailable, type Producer } from '@renkei/bus';
import { isDatabaseUnavailable, type Pool } from '@renkei/db';
import { createHttpApp, type HttpApp } from '@renkei/http';
import type { HubMetrics } from '@renkei/metrics';
import type { Logger } from '@renkei/runtime';
import { reportRoutes } from './routes/reports.js';
import { SubmissionBatcher } from './submission-batcher.js';

export interface IngestDeps {
  logger: Logger;
  pool: Pool;
  producer: Producer;
  reportsTopic: string;
  verifyToken: TokenVerifier;
  kafkaTimeoutMs: number;
  batching?: { lingerMs: number; maxBatch: number };
  metrics?: HubMetrics;
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
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    openapi: {
      title: 'Renkei ingest',
      description: 'Where member organisations submit incident reports.',
    },
  });
  const submissions = new SubmissionBatcher({
    pool: deps.pool,
    producer: deps.producer,
    topic: deps.reportsTopic,
    kafkaTimeoutMs: deps.kafkaTimeoutMs,
    lingerMs: deps.batching?.lingerMs ?? 5,
    maxBatch: deps.batching?.maxBatch ?? 200,
    logger: deps.logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  // Runs once the server has finished its requests; anything still queued goes out first.
  http.app.addHook('onClose', () => submissions.close());
  reportRoutes(http.app, { pool: deps.pool, submissions });
  return http;
}
