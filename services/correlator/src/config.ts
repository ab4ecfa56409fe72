import { z } from 'zod';
import { DEFAULT_CORRELATION_SETTINGS, type CorrelationSettings } from '@renkei/correlation';
import {
  checkRetentionEnv,
  retentionEnv,
  retentionSettings,
  type RetentionSettings,
} from '@renkei/retention';
import {
  databaseEnv,
  dependencyEnv,
  feedEnv,
  hostSchema,
  httpEnv,
  kafkaEnv,
  logEnv,
  metricsEnv,
  parseEnv,
  portSchema,
  warningListsEnv,
} from '@renkei/schema';

const correlatorEnv = z.object({
  ...logEnv.shape,
  ...databaseEnv.shape,
  ...kafkaEnv.shape,
  ...dependencyEnv.shape,
  ...feedEnv.shape,
  ...httpEnv.shape,
  ...metricsEnv.shape,
  ...warningListsEnv.shape,
  ...retentionEnv.shape,
  HOST: hostSchema,
  /** `/healthz` and `/readyz` for supervisors and load balancers. */
  CORRELATOR_PORT: portSchema.default(7402),
  /**
   * How long the group waits for a silent member before giving its partitions
   * to another; after a crash, consumption resumes within about this long.
   * The broker accepts 6 s to 5 min.
   */
  CORRELATOR_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  /** Two sightings correlate when detected at most this many days apart. */
  CORRELATION_WINDOW_DAYS: z.coerce.number().positive().max(3_650).default(14),
  /** More organisations than this within one window make an indicator too common. */
  CORRELATION_TOO_COMMON_ORGANISATIONS: z.coerce.number().int().min(2).default(25),
  /** The most reports an alert holds; it also bounds the rows read per indicator. */
  CORRELATION_MAX_CONTRIBUTIONS: z.coerce.number().int().min(2).max(10_000).default(500),
  CORRELATION_CAMPAIGN_MIN_INDICATORS: z.coerce.number().int().min(2).default(2),
  CORRELATION_SURGE_REPORTS: z.coerce.number().int().min(2).default(5),
  CORRELATION_SURGE_MINUTES: z.coerce.number().positive().max(1_440).default(60),
  /** Surge alerts are per day from midnight in this offset (minutes east of UTC; Japan by default). */
  CORRELATION_SURGE_DAY_UTC_OFFSET_MINUTES: z.coerce.number().int().min(-720).max(840).default(540),
  /**
   * Reports per partition and transaction: a fetched batch is cut into chunks
   * of at most this many, and the chunks the partitions hand in together
   * share a transaction. Larger chunks mean fewer commits, round trips and
   * alert versions, but hold their locks longer against the other
   * correlators of the group.
   */
  CORRELATOR_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(100),
  /** How often watchlist entries not yet matched against stored reports are looked for. */
  CORRELATOR_WATCHLIST_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
});
// The retention purge runs here (README "Retention"): its settings are checked together, once.
export const correlatorConfigSchema = correlatorEnv.superRefine(checkRetentionEnv);
export type CorrelatorConfig = z.output<typeof correlatorConfigSchema>;

export function correlationSettings(config: CorrelatorConfig): CorrelationSettings {
  return {
    ...DEFAULT_CORRELATION_SETTINGS,
    windowMs: Math.round(config.CORRELATION_WINDOW_DAYS * 86_400_000),
    tooCommonOrganisations: config.CORRELATION_TOO_COMMON_ORGANISATIONS,
    maxContributions: config.CORRELATION_MAX_CONTRIBUTIONS,
    campaignMinIndicators: config.CORRELATION_CAMPAIGN_MIN_INDICATORS,
    surgeReports: config.CORRELATION_SURGE_REPORTS,
    surgePeriodMs: Math.round(config.CORRELATION_SURGE_MINUTES * 60_000),
    surgeDayOffsetMinutes: config.CORRELATION_SURGE_DAY_UTC_OFFSET_MINUTES,
  };
}

export function correlatorRetention(config: CorrelatorConfig): RetentionSettings {
  return retentionSettings(config);
}

export function loadCorrelatorConfig(
  env: Record<string, string | undefined> = process.env,
): CorrelatorConfig {
  return parseEnv(correlatorConfigSchema, env);
}
