import { hostname } from 'node:os';
import path from 'node:path';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { originListSchema } from '@renkei/http';
import { z } from 'zod';
import {
  authEnv,
  databaseEnv,
  dependencyEnv,
  feedEnv,
  hostSchema,
  httpEnv,
  hubSecretEnv,
  kafkaEnv,
  logEnv,
  metricsEnv,
  parseEnv,
  portSchema,
  warningListsEnv,
} from '@renkei/schema';

export const gatewayConfigSchema = z.object({
  ...logEnv.shape,
  ...databaseEnv.shape,
  ...kafkaEnv.shape,
  ...authEnv.shape,
  ...dependencyEnv.shape,
  ...feedEnv.shape,
  ...httpEnv.shape,
  ...metricsEnv.shape,
  ...hubSecretEnv.shape,
  ...warningListsEnv.shape,
  HOST: hostSchema,
  /** This service's own connection, as role `<DATABASE_ROLE_PREFIX>_gateway` (docs/OPERATIONS.md, "Database roles"). */
  GATEWAY_DATABASE_URL: z.url().optional(),
  GATEWAY_PORT: portSchema.default(7401),
  /** Every gateway process reads the whole feed topic, so each needs its own consumer group. */
  GATEWAY_INSTANCE_ID: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .default(`${hostname()}-${process.pid}`),
  /** A client whose unsent frames pass this many bytes is disconnected rather than let memory grow. */
  GATEWAY_MAX_BUFFERED_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
  /**
   * The feed consumer's Kafka session. After a broker restart the consumer
   * rejoins as a new member and waits out the old one's session, so this is
   * how long `/readyz` may name `kafka-consumer` once the broker is back. The
   * broker accepts 6 s to 5 min.
   */
  GATEWAY_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  /** How often PostgreSQL is asked for feed events Kafka has not brought: the safety net's period. */
  GATEWAY_FEED_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /**
   * Open streams one organisation may hold on this gateway; one more is closed
   * with 4429 before its welcome, so one member cannot take every socket.
   */
  GATEWAY_MAX_SOCKETS_PER_ORGANISATION: z.coerce.number().int().min(1).max(100_000).default(50),
  /** How often streams are pinged; a connection that misses one answer is dropped. */
  GATEWAY_HEARTBEAT_MS: z.coerce.number().int().min(100).max(120_000).default(30_000),
  /** How often each open stream's access is checked again (token expiry, organisation disabled). */
  GATEWAY_ACCESS_RECHECK_MS: z.coerce.number().int().min(100).max(30_000).default(5_000),
  /**
   * Where browsers reach this gateway (behind a load balancer, say), e.g.
   * `https://renkei.example`: its origin may open the stream. Without it, the
   * address the gateway listens on is its own origin.
   */
  GATEWAY_PUBLIC_URL: z.url().optional(),
  /** More origins whose pages may open the stream, comma-separated: `https://console.example,https://soc.example`. */
  GATEWAY_ALLOWED_ORIGINS: originListSchema,
  /** The operator's choice: the TAXII CLEAR collection may be read without a token. Off unless `true`. */
  TAXII_PUBLIC_COLLECTION: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  /** Reports, alerts and warnings (each) one TAXII page is built from; past them, `more` and `next` go on. */
  TAXII_MAX_ITEMS: z.coerce.number().int().min(1).max(100_000).default(10_000),
  /** How long one TAXII build serves the pages of one audience's query (a new item shows after at most this). */
  TAXII_CACHE_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  /** The built console served at `/`. */
  GATEWAY_CONSOLE_DIR: z.string().default(path.join(REPOSITORY_ROOT, 'services', 'console', 'dist')),
  /** How often each gateway looks for exercise injects that fell due and runs that ended. */
  GATEWAY_EXERCISE_TICK_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** How often each gateway seals new audit entries into the hash chain (one gateway at a time does). */
  GATEWAY_AUDIT_SEAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** Where ingest is: the console's form posts there, and TAXII adds are imported there. */
  GATEWAY_INGEST_URL: z.url().default('http://127.0.0.1:7400'),
  /**
   * Local development only (`npm run up` sets it): the console offers demo
   * sign-in, minting tokens with the signing key beside AUTH_JWKS_FILE.
   */
  GATEWAY_DEV_MODE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  /**
   * Webhook hosts the operator vouches for, comma-separated names or
   * addresses (`hooks.internal,10.0.0.8`): only these may resolve to
   * loopback, private or link-local addresses. Everything else must be public.
   */
  DELIVERY_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((host) => host.trim())
        .filter(Boolean),
    ),
  /** A PEM file of CA certificates webhook receivers are also trusted by (beside the system's). */
  DELIVERY_CA_FILE: z.string().min(1).optional(),
  /**
   * Where e-mail is sent: `smtp://user:pass@host:587` (STARTTLS when offered)
   * or `smtps://host:465`. Without it, e-mail endpoints are refused.
   */
  DELIVERY_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
    .optional(),
  /** The sender of delivery e-mail. */
  DELIVERY_SMTP_FROM: z.string().min(3).default('Renkei <renkei@localhost>'),
  /** One webhook request or SMTP transaction may take this long before it counts as failed. */
  DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** The first retry waits up to this long; each later one up to twice the one before. */
  DELIVERY_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(1_000),
  /** The longest wait between two attempts. */
  DELIVERY_RETRY_CAP_MS: z.coerce.number().int().min(10).max(86_400_000).default(600_000),
  /** How long after its first attempt a delivery is still retried; then it is marked failed. */
  DELIVERY_RETRY_FOR_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(30 * 86_400_000)
    .default(86_400_000),
  /** How often the delivering gateway looks for new feed events and due retries without being woken. */
  DELIVERY_POLL_MS: z.coerce.number().int().min(20).max(60_000).default(1_000),
});
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  return parseEnv(gatewayConfigSchema, env);
}
