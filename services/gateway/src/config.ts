import { hostname } from 'node:os';
import { z } from 'zod';
import {
  authEnv,
  databaseEnv,
  dependencyEnv,
  feedEnv,
  hostSchema,
  kafkaEnv,
  logEnv,
  parseEnv,
  portSchema,
} from '@renkei/schema';

export const gatewayConfigSchema = z.object({
  ...logEnv.shape,
  ...databaseEnv.shape,
  ...kafkaEnv.shape,
  ...authEnv.shape,
  ...dependencyEnv.shape,
  ...feedEnv.shape,
  HOST: hostSchema,
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
  /** How often PostgreSQL is asked for feed events Kafka has not brought: the safety net's period. */
  GATEWAY_FEED_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
});
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  return parseEnv(gatewayConfigSchema, env);
}
