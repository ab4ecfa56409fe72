import { z } from 'zod';
import { cursorSchema } from './cursor.js';
import {
  indicatorTypeSchema,
  organisationIdSchema,
  sectorSchema,
  severitySchema,
  tlpSchema,
} from './vocabulary.js';

export const ALERT_KINDS = ['shared-indicator'] as const;
export const alertKindSchema = z.enum(ALERT_KINDS);
export type AlertKind = z.infer<typeof alertKindSchema>;

export const alertIndicatorSchema = z.strictObject({
  type: indicatorTypeSchema,
  value: z.string().min(1),
});
export type AlertIndicator = z.infer<typeof alertIndicatorSchema>;

/** One report that an alert was built from, with what the policy needs to judge it. */
export const alertContributionSchema = z.strictObject({
  reportId: z.uuid(),
  organisationId: organisationIdSchema,
  sector: sectorSchema,
  tlp: tlpSchema,
  severity: severitySchema,
  receivedAt: z.iso.datetime({ offset: true }),
});
export type AlertContribution = z.infer<typeof alertContributionSchema>;

export const ALERT_RECORD_SCHEMA = 'renkei.alert.v1';

/**
 * The full alert as the hub keeps it: in PostgreSQL and on the alerts topic.
 * It names organisations, so it never leaves the hub as is: viewers get an
 * {@link AlertView} made for them by the policy package.
 */
export const alertRecordSchema = z.strictObject({
  schema: z.literal(ALERT_RECORD_SCHEMA),
  id: z.uuid(),
  version: z.number().int().positive(),
  kind: alertKindSchema,
  severity: severitySchema,
  tlp: tlpSchema,
  title: z.string().min(1),
  indicators: z.array(alertIndicatorSchema).min(1),
  sectors: z.array(sectorSchema),
  organisationCount: z.number().int().nonnegative(),
  contributions: z.array(alertContributionSchema).min(1),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
  exercise: z.boolean(),
});
export type AlertRecord = z.infer<typeof alertRecordSchema>;

/** An alert as one viewer may see it. */
export const alertViewSchema = z.strictObject({
  id: z.uuid(),
  version: z.number().int().positive(),
  kind: alertKindSchema,
  severity: severitySchema,
  tlp: tlpSchema,
  title: z.string(),
  indicators: z.array(alertIndicatorSchema),
  sectors: z.array(sectorSchema),
  organisationCount: z.number().int().nonnegative(),
  /** Only the reports the viewer may read. */
  reportIds: z.array(z.uuid()),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
  exercise: z.boolean(),
});
export type AlertView = z.infer<typeof alertViewSchema>;

/** The answer of `GET /v1/alerts`. */
export const alertPageSchema = z.strictObject({
  items: z.array(alertViewSchema.extend({ cursor: cursorSchema })),
  /** Pass as `before` to get the next (older) page; null on the last page. */
  nextBefore: z.string().nullable(),
});
export type AlertPage = z.infer<typeof alertPageSchema>;
