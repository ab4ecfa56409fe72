import { z } from 'zod';
import { organisationIdSchema, tlpSchema } from './vocabulary.js';

/** The body of `POST /v1/reports/:id/tlp`: the report's new, more restrictive label. */
export const tlpChangeRequestSchema = z.strictObject({ tlp: tlpSchema });
export type TlpChangeRequest = z.infer<typeof tlpChangeRequestSchema>;

export const TLP_CHANGE_SCHEMA = 'renkei.report-tlp-change.v1';

/**
 * A report's TLP tightened, on the reports topic beside the report itself
 * (keyed by the report id, so it follows the report on its partition). Who
 * asked comes from the token, never from the body.
 */
export const tlpChangeMessageSchema = z.strictObject({
  schema: z.literal(TLP_CHANGE_SCHEMA),
  reportId: z.uuid(),
  tlp: tlpSchema,
  /** The caller's organisation: the report's own, or the GSOC for an analyst. */
  organisationId: organisationIdSchema,
  changedBy: z.string().min(1).max(256),
  receivedAt: z.iso.datetime({ offset: true }),
});
export type TlpChangeMessage = z.infer<typeof tlpChangeMessageSchema>;

/** The answer of `POST /v1/reports/:id/tlp`. */
export const tlpChangeAcceptedSchema = z.strictObject({
  id: z.uuid(),
  tlp: tlpSchema,
  status: z.literal('accepted'),
});
export type TlpChangeAccepted = z.infer<typeof tlpChangeAcceptedSchema>;
