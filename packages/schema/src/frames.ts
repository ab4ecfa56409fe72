import { z } from 'zod';
import { alertViewSchema } from './alert.js';
import { cursorSchema } from './cursor.js';
import { principalSchema } from './principal.js';

/** Frames the gateway sends on `GET /v1/stream`, as JSON text. */
export const welcomeFrameSchema = z.strictObject({
  type: z.literal('welcome'),
  protocol: z.literal(1),
  principal: principalSchema.pick({ subject: true, organisationId: true, sector: true, roles: true }),
});

export const alertFrameSchema = z.strictObject({
  type: z.literal('alert'),
  cursor: cursorSchema,
  alert: alertViewSchema,
});

export const serverFrameSchema = z.discriminatedUnion('type', [welcomeFrameSchema, alertFrameSchema]);
export type WelcomeFrame = z.infer<typeof welcomeFrameSchema>;
export type AlertFrame = z.infer<typeof alertFrameSchema>;
export type ServerFrame = z.infer<typeof serverFrameSchema>;
