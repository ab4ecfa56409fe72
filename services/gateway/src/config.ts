import { hostname } from 'node:os';
import { z } from 'zod';
import { authEnv, databaseEnv, hostSchema, kafkaEnv, logEnv, parseEnv, portSchema } from '@renkei/schema';

export const gatewayConfigSchema = z.object({
  ...logEnv.shape,
  ...databaseEnv.shape,
  ...kafkaEnv.shape,
  ...authEnv.shape,
  HOST: hostSchema,
  GATEWAY_PORT: portSchema.default(7401),
  /** Every gateway process reads the whole alerts topic, so each needs its own consumer group. */
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
});
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  return parseEnv(gatewayConfigSchema, env);
}
