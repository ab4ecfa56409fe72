import { z } from 'zod';
import {
  databaseEnv,
  dependencyEnv,
  feedEnv,
  hostSchema,
  kafkaEnv,
  logEnv,
  parseEnv,
  portSchema,
} from '@renkei/schema';

export const correlatorConfigSchema = z.object({
  ...logEnv.shape,
  ...databaseEnv.shape,
  ...kafkaEnv.shape,
  ...dependencyEnv.shape,
  ...feedEnv.shape,
  HOST: hostSchema,
  /** `/healthz` and `/readyz` for supervisors and load balancers. */
  CORRELATOR_PORT: portSchema.default(7402),
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
