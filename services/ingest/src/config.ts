import { originListSchema } from '@renkei/http';
import { z } from 'zod';
import {
  authEnv,
  databaseEnv,
  dependencyEnv,
  hostSchema,
  httpEnv,
  hubSecretEnv,
  kafkaEnv,
  logEnv,
  metricsEnv,
  parseEnv,
  portSchema,
} from '@renkei/schema';

export const ingestConfigSchema = z.object({
  ...logEnv.shape,
  ...databaseEnv.shape,
  ...kafkaEnv.shape,
  ...authEnv.shape,
  ...dependencyEnv.shape,
  ...httpEnv.shape,
  ...metricsEnv.shape,
  ...hubSecretEnv.shape,
  HOST: hostSchema,
  /** This service's own connection, as role `<DATABASE_ROLE_PREFIX>_ingest` (docs/OPERATIONS.md, "Database roles"). */
  INGEST_DATABASE_URL: z.url().optional(),
  INGEST_PORT: portSchema.default(7400),
  /**
   * How long a POST waits for Kafka's acknowledgement before answering 503.
   * Long enough for a cluster to replace a dead leader (fenced after 4 s, then
   * elected): on the loaded 2-core machine that took up to 8.7 s, too close to
   * the 10 s this was. A held POST answered 202 beats a 503 and a retry.
   */
  INGEST_KAFKA_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  /** How long a report waits for others to share its Kafka request; 0 sends each at once. */
  INGEST_BATCH_LINGER_MS: z.coerce.number().int().min(0).max(1_000).default(5),
  /**
   * A batch of this many reports is sent without waiting. Smaller batches
   * keep more in flight, so one batch's ledger writes overlap others' Kafka
   * sends: 100 carried about 10 % more than 200 at 400 in flight.
   */
  INGEST_BATCH_MAX: z.coerce.number().int().min(1).max(10_000).default(100),
  /**
   * How long a batch waits for the ledger (PostgreSQL) before it is sent on
   * Kafka's acknowledgement alone; the ledger catches up from the topic.
   */
  INGEST_LEDGER_TIMEOUT_MS: z.coerce.number().int().min(100).default(2_000),
  /** After the ledger failed, how long batches go without it before one tries it again. */
  INGEST_LEDGER_RETRY_MS: z.coerce.number().int().min(100).default(1_000),
  /** The largest STIX bundle or MISP event a POST may carry (10,000 STIX objects are a few MiB). */
  INGEST_IMPORT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(32 * 1024 * 1024),
  /** How often ingest looks for partner feeds due a poll; a `renkei feed sync` or a new feed wakes it at once. */
  PARTNER_FEED_CHECK_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** The wait after a partner feed's first failed poll; it doubles per failure, up to its interval (an hour at least). */
  PARTNER_FEED_RETRY_BASE_MS: z.coerce.number().int().min(100).default(30_000),
  /** One request to a partner's deadline. */
  PARTNER_FEED_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** The largest body read from a partner (a TAXII page, a manifest, a MISP event). */
  PARTNER_FEED_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  /** TAXII objects asked for per page, and read per poll at most (the rest at once by the next poll). */
  PARTNER_FEED_PAGE_LIMIT: z.coerce.number().int().min(1).max(10_000).default(1_000),
  PARTNER_FEED_MAX_OBJECTS: z.coerce.number().int().min(1).max(20_000).default(10_000),
  /** MISP events fetched per poll at most (the rest at once by the next poll). */
  PARTNER_FEED_MAX_EVENTS: z.coerce.number().int().min(1).max(10_000).default(200),
  /** Origins whose pages may submit reports (the console's, e.g. `http://127.0.0.1:7401`), comma-separated. */
  INGEST_ALLOWED_ORIGINS: originListSchema,
});
export type IngestConfig = z.output<typeof ingestConfigSchema>;

export function loadIngestConfig(env: Record<string, string | undefined> = process.env): IngestConfig {
  return parseEnv(ingestConfigSchema, env);
}
