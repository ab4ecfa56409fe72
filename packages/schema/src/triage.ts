import { z } from 'zod';
import { alertViewSchema } from './alert.js';
import { cursorSchema } from './cursor.js';
import { storableString } from './text.js';
import { triageStatusSchema, type TriageStatus } from './vocabulary.js';

/**
 * Where an alert may go from each status. Forward steps may skip (an obvious
 * false positive need not be acknowledged first); a closed alert can only be
 * reopened for investigation, never sent back to `new` or `acknowledged`,
 * so the status history always reads as a watch floor worked it.
 */
export const TRIAGE_TRANSITIONS: Readonly<Record<TriageStatus, readonly TriageStatus[]>> = {
  new: ['acknowledged', 'investigating', 'resolved', 'false-positive'],
  acknowledged: ['investigating', 'resolved', 'false-positive'],
  investigating: ['resolved', 'false-positive'],
  resolved: ['investigating'],
  'false-positive': ['investigating'],
};

export function canMoveTriage(from: TriageStatus, to: TriageStatus): boolean {
  return TRIAGE_TRANSITIONS[from].includes(to);
}

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

const noteText = () => storableString().trim().min(1).max(10_000);

/** The body of `POST /v1/alerts/:id/status`. */
export const triageStatusChangeSchema = z.strictObject({
  status: triageStatusSchema,
  /** Why, in the analyst's words; kept in the history with the change. */
  note: noteText().optional(),
});
export type TriageStatusChange = z.input<typeof triageStatusChangeSchema>;

/** The body of `POST /v1/alerts/:id/assignee`: a subject, or null to unassign. */
export const triageAssigneeChangeSchema = z.strictObject({
  assignee: storableString().trim().min(1).max(256).nullable(),
});
export type TriageAssigneeChange = z.input<typeof triageAssigneeChangeSchema>;

/** The body of `POST /v1/alerts/:id/notes`. */
export const triageNoteSchema = z.strictObject({ text: noteText() });
export type TriageNote = z.input<typeof triageNoteSchema>;

/**
 * An alert's triage as `GET /v1/alerts/:id` shows it. Analysts see who has
 * it and every change; other organisations see only where it stands.
 */
export const alertTriageViewSchema = z.strictObject({
  status: triageStatusSchema,
  /** Analysts only. */
  assignee: z.string().nullable().optional(),
  /** Analysts only: every change, oldest first. */
  history: z.array(triageUpdateSchema).optional(),
});
export type AlertTriageView = z.infer<typeof alertTriageViewSchema>;

/** The answer of `GET /v1/alerts/:id`: the alert, each version the viewer may know of, and its triage. */
export const alertDetailSchema = z.strictObject({
  alert: alertViewSchema.extend({ cursor: cursorSchema }),
  /** Oldest first, each as the policy shapes it for the viewer. */
  versions: z.array(alertViewSchema.extend({ cursor: cursorSchema })),
  triage: alertTriageViewSchema,
});
export type AlertDetail = z.infer<typeof alertDetailSchema>;
