import { z } from 'zod';
import { alertIndicatorSchema } from './alert.js';
import { storableString } from './text.js';
import { organisationIdSchema, sectorSchema, severitySchema, tlpSchema } from './vocabulary.js';

/** Which sectors a warning goes to: a list, or every sector. */
export const warningSectorsSchema = z.union([z.array(sectorSchema).min(1), z.literal('all')]);
export type WarningSectors = z.infer<typeof warningSectorsSchema>;

/** The body of `POST /v1/warnings` (analysts). */
export const warningSubmissionSchema = z.strictObject({
  title: storableString().trim().min(1).max(200),
  body: storableString().trim().min(1).max(20_000),
  severity: severitySchema,
  tlp: tlpSchema,
  sectors: warningSectorsSchema,
  indicators: z
    .array(
      z.strictObject({
        type: alertIndicatorSchema.shape.type,
        value: storableString().trim().min(1).max(2048),
      }),
    )
    .max(1000)
    .default([]),
  alertIds: z.array(z.uuid()).max(100).default([]),
  exercise: z.boolean().default(false),
});
export type WarningSubmission = z.input<typeof warningSubmissionSchema>;

/** A shared warning (注意喚起) as its recipients see it; `indicators` are canonical. */
export const warningViewSchema = z.strictObject({
  id: z.uuid(),
  title: z.string(),
  body: z.string(),
  severity: severitySchema,
  tlp: tlpSchema,
  sectors: warningSectorsSchema,
  indicators: z.array(alertIndicatorSchema),
  alertIds: z.array(z.uuid()),
  publishedAt: z.iso.datetime({ offset: true }),
  exercise: z.boolean(),
});
export type WarningView = z.infer<typeof warningViewSchema>;

/** The warning as the hub keeps it and the feed carries it. */
export const warningRecordSchema = warningViewSchema.extend({
  /** The analyst who published it. */
  publishedBy: z.string(),
});
export type WarningRecord = z.infer<typeof warningRecordSchema>;

/** An organisation's acknowledgement of a warning, as the feed carries it to analysts. */
export const warningAckSchema = z.strictObject({
  warningId: z.uuid(),
  organisationId: organisationIdSchema,
  /** The subject who acknowledged for the organisation. */
  by: z.string(),
  at: z.iso.datetime({ offset: true }),
});
export type WarningAck = z.infer<typeof warningAckSchema>;
