import { z } from 'zod';
import { databaseEnv, kafkaEnv, logEnv, parseEnv } from '@renkei/schema';

export const correlatorConfigSchema = z.object({
  ...logEnv.shape,
  ...databaseEnv.shape,
  ...kafkaEnv.shape,
  /** How often the outbox is swept for alert versions not yet on Kafka (e.g. after a crash). */
  CORRELATOR_OUTBOX_SWEEP_MS: z.coerce.number().int().min(50).default(1_000),
});
export type CorrelatorConfig = z.output<typeof correlatorConfigSchema>;

export function loadCorrelatorConfig(
  env: Record<string, string | undefined> = process.env,
): CorrelatorConfig {
  return parseEnv(correlatorConfigSchema, env);
}
