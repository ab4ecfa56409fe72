import { z } from 'zod';
import { describeIssues, fieldIssues } from './issues.js';

/**
 * Environment fragments shared by the services. Each service composes the ones
 * it needs and parses `process.env` once, at start-up.
 */
export const logEnv = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/**
 * `DATABASE_URL` is the owner's connection: it creates the database if
 * missing and applies the migrations (the CLI uses it for everything). Each
 * service then works as a role of its own, `<DATABASE_ROLE_PREFIX>_<service>`,
 * granted only what that service does: its `<SERVICE>_DATABASE_URL`, or else
 * `DATABASE_URL` with that role as the user and no password (trust locally).
 */
export const databaseEnv = z.object({
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/renkei'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** Roles are cluster-wide: two hubs on one PostgreSQL give theirs different prefixes. */
  DATABASE_ROLE_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,39}$/, 'must be lower-case letters, digits and _, starting with a letter')
    .default('renkei'),
});

/**
 * A loss timeout: 0 (the default) means never; otherwise at least a second,
 * so a restart of the dependency is not mistaken for its loss.
 */
const lossTimeoutMs = z.coerce
  .number()
  .int()
  .min(0)
  .refine((ms) => ms === 0 || ms >= 1_000, 'must be 0 (never exit) or at least 1000')
  .default(0);

/**
 * How a service watches its dependencies: readiness follows the last check
 * and names what is missing. A service whose PostgreSQL or Kafka goes away
 * stays up, not ready, retries and recovers by itself. Exiting instead (exit
 * 1, for an orchestrator to restart it) is an opt-in: set the loss timeout.
 */
export const dependencyEnv = z.object({
  DEPENDENCY_CHECK_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  DATABASE_LOSS_TIMEOUT_MS: lossTimeoutMs,
  KAFKA_LOSS_TIMEOUT_MS: lossTimeoutMs,
});

/** The feed relay runs in the correlator and the gateway; one process leads at a time. */
export const feedEnv = z.object({
  /** How often the relay sweeps without a notification; also how soon leadership passes on. */
  FEED_SWEEP_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** How long the feed keeps events for clients resuming by cursor; older cursors get a `gap`. */
  FEED_RETENTION_HOURS: z.coerce
    .number()
    .min(0.01)
    .max(24 * 365)
    .default(7 * 24),
});

export const kafkaEnv = z.object({
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((value) =>
      value
        .split(',')
        .map((broker) => broker.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port')).min(1)),
  /** Prefixes every topic and consumer group: lets tests and drills share one broker. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/)
    .default(''),
  /** 1 on a single local broker; 3 in a real cluster. */
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(5).default(1),
  /**
   * `sasl_ssl` (the default): TLS, then SCRAM-SHA-512 as the service's own principal
   * (see docs/OPERATIONS.md). `plaintext` only when asked for, for a development
   * broker: anyone who reaches it may read and write every topic.
   */
  KAFKA_SECURITY: z.enum(['plaintext', 'sasl_ssl']).default('sasl_ssl'),
  /** The principal; defaults to the service's own name (ingest, correlator, gateway; admin for the CLI). */
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  /** The password itself, or (better) a file holding it; defaults to `<RENKEI_STATE_DIR>/kafka-credentials/<username>`. */
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD_FILE: z.string().min(1).optional(),
  /** CA the broker's certificate is checked against; defaults to `<RENKEI_STATE_DIR>/kafka-tls/ca.pem` if it exists, else the system's. */
  KAFKA_TLS_CA_FILE: z.string().min(1).optional(),
});

export const authEnv = z.object({
  AUTH_ISSUER: z.string().min(1).default('renkei'),
  AUTH_AUDIENCE: z.string().min(1).default('renkei-api'),
  /** Public key set (JWKS) tokens are verified against; defaults to the local one. */
  AUTH_JWKS_FILE: z.string().min(1).optional(),
  /** How often services look for a changed key set (after `renkei keys rotate|retire`). */
  AUTH_JWKS_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** A token whose `exp` lies further than this from its `iat` is refused. */
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(30 * 24 * 3600),
  /** Slack allowed for clocks that disagree, on `exp`, `nbf` and `iat`. */
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /** How often the organisation registry is read again without a notification. */
  REGISTRY_POLL_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Writes one organisation may make per window, on each service process; then 429. */
  RATE_LIMIT_WRITES_MAX: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_WRITES_WINDOW_MS: z.coerce.number().int().min(1_000).default(60_000),
  /**
   * Reads one organisation may make, in read units (one item 1, a list 5, an
   * export or TAXII page 50), per second and at most at once, on each service
   * process; then 429.
   */
  RATE_LIMIT_READS_PER_SECOND: z.coerce.number().min(0.01).default(100),
  RATE_LIMIT_READS_BURST: z.coerce.number().int().min(1).default(1_000),
  /** Exports and TAXII pages one organisation may have in flight at once, on each process. */
  RATE_LIMIT_EXPENSIVE_READS_IN_FLIGHT: z.coerce.number().int().min(1).default(2),
  /** The same for analysts' and admins' tokens: larger, still bounded. */
  RATE_LIMIT_ANALYST_READS_PER_SECOND: z.coerce.number().min(0.01).default(500),
  RATE_LIMIT_ANALYST_READS_BURST: z.coerce.number().int().min(1).default(5_000),
  RATE_LIMIT_ANALYST_EXPENSIVE_READS_IN_FLIGHT: z.coerce.number().int().min(1).default(4),
  /** Refused tokens written to the audit log per minute and process; the rest are counted in one entry. */
  AUDIT_REFUSALS_PER_MINUTE: z.coerce.number().int().min(1).default(60),
});

/**
 * The hub's own secret (64 hex digits): every process of one hub must share it.
 * Keys for sealing cursors and deriving import ids come from it. Without the
 * variable, a local hub keeps it in `<RENKEI_STATE_DIR>/keys/hub-secret`,
 * created on first use.
 */
export const hubSecretEnv = z.object({
  HUB_SECRET_FILE: z.string().min(1).optional(),
});

/**
 * The MISP warning lists beside the shipped ones. The correlator suppresses
 * what they hold; the gateway reads the same settings, so a lookup names the
 * list a report of the value would meet.
 */
export const warningListsEnv = z.object({
  /** An operator's own MISP warning lists (`*.json`), loaded beside the shipped ones. */
  CORRELATOR_WARNINGLISTS_DIR: z.string().min(1).optional(),
  /** Shipped or operator lists to skip, by file name without `.json`, comma-separated. */
  CORRELATOR_WARNINGLISTS_DISABLED: z
    .string()
    .default('')
    .transform((names) =>
      names
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    ),
});

/**
 * How long an HTTP client may take, on every service. A request (headers and
 * body) must arrive in full within `HTTP_REQUEST_TIMEOUT_MS` of its first
 * byte or it is cut with a 408; the check runs every second, so the default
 * cuts a slow body within 26 s. Raise it if members send large imports over
 * slow links.
 */
export const httpEnv = z.object({
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(25_000),
  /** The headers alone; at most the request timeout. */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(10_000),
  /** An idle keep-alive connection is closed after this (Node adds a second of grace). */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
});

/**
 * `/metrics` is served on a listener of its own, never on the service's port.
 * `METRICS_PORT` defaults to the service's port + 10 (7410, 7411, 7412), or a
 * free port when the service's is 0. With `METRICS_TOKEN` a scrape must send
 * `Authorization: Bearer <token>`; set it whenever `METRICS_HOST` is not loopback.
 */
export const metricsEnv = z.object({
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});

/** Where a service's metrics listener goes: `METRICS_PORT`, else its own port + 10 (0 stays 0). */
export function metricsPortFor(servicePort: number, configured: number | undefined): number {
  if (configured !== undefined) return configured;
  return servicePort === 0 ? 0 : servicePort + 10;
}

/** HOST is where the HTTP services listen; each service names its own port variable. */
export const hostSchema = z.string().min(1).default('127.0.0.1');
export const portSchema = z.coerce.number().int().min(0).max(65535);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses the environment once; a bad variable stops the process with its name. */
export function parseEnv<Schema extends z.ZodType>(
  schema: Schema,
  env: Record<string, string | undefined>,
): z.output<Schema> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(`invalid configuration: ${describeIssues(fieldIssues(result.error))}`);
  }
  return result.data;
}
