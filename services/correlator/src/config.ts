import { z } from 'zod';
import { databaseEnv, kafkaEnv, logEnv, parseEnv } from '@renkei/schema';

export const correlatorConfigSchema = z.object({
  ...logEnv.shape,
  ...databaseEnv.shape,
  ...kafkaEnv.shape,
  /** How often the outbox is swept for alert versions not yet on Kafka (e.g. after a crash). */
  CORRELATOR_OUTBOX_SWEEP_MS: z.coerce.number().int().min(50).default(1_000),
  /**
   * How long the group waits for a silent member before giving its partitions
   * to another; after a crash, consumption resumes within about this long.
   * The broker accepts 6 s to 5 min.
   */
  CORRELATOR_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
});
export type CorrelatorConfig = z.output<typeof correlatorConfigSchema>;

export function loadCorrelatorConfig(
  env: Record<string, string | undefined> = process.env,
): CorrelatorConfig {
  return parseEnv(correlatorConfigSchema, env);
}
