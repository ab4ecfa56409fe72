import { z } from 'zod';

/** An alert's triage status: `new` → `acknowledged` → `investigating` → `resolved` | `false-positive`. */
export const TRIAGE_STATUSES = [
  'new',
  'acknowledged',
  'investigating',
  'resolved',
  'false-positive',
] as const;
export const triageStatusSchema = z.enum(TRIAGE_STATUSES);
export type TriageStatus = z.infer<typeof triageStatusSchema>;

/** One triage change, as stored, audited and pushed to analysts (`alert-update` frames). */
export const triageUpdateSchema = z.strictObject({
  alertId: z.uuid(),
  /** The status after the change. */
  status: triageStatusSchema,
  /** The assignee after the change; null when nobody is assigned. */
  assignee: z.string().nullable(),
  /** The note this change carried, if any. */
  note: z.string().nullable(),
  /** The analyst's subject. */
  by: z.string(),
  at: z.iso.datetime({ offset: true }),
});
export type TriageUpdate = z.infer<typeof triageUpdateSchema>;
