import { z } from 'zod';
import { alertViewSchema } from './alert.js';
import { cursorSchema } from './cursor.js';
import { storableString } from './text.js';
import {
  organisationIdSchema,
  reportCategorySchema,
  sectorSchema,
  severitySchema,
  tlpSchema,
  triageStatusSchema,
  type TriageStatus,
} from './vocabulary.js';

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

/** A report behind an alert, as its reader may read it: analysts every one, anyone else its own organisation's. */
export const alertReportSchema = z.strictObject({
  id: z.uuid(),
  organisationId: organisationIdSchema,
  sector: sectorSchema,
  title: z.string(),
  description: z.string().nullable(),
  category: reportCategorySchema,
  severity: severitySchema,
  tlp: tlpSchema,
  detectedAt: z.iso.datetime({ offset: true }),
  receivedAt: z.iso.datetime({ offset: true }),
  exercise: z.boolean(),
  /** As reported (not canonical): what the reporter wrote. */
  indicators: z.array(z.strictObject({ type: z.string(), value: z.string() })),
});
export type AlertReport = z.infer<typeof alertReportSchema>;

/** The answer of `GET /v1/alerts/:id`: the alert, each version the viewer may know of, and its triage. */
export const alertDetailSchema = z.strictObject({
  alert: alertViewSchema.extend({ cursor: cursorSchema }),
  /** Oldest first, each as the policy shapes it for the viewer. */
  versions: z.array(alertViewSchema.extend({ cursor: cursorSchema })),
  triage: alertTriageViewSchema,
  /** The reports of `alert.reportIds` (those the viewer may read), oldest first. */
  reports: z.array(alertReportSchema).optional(),
});
export type AlertDetail = z.infer<typeof alertDetailSchema>;

/** How many alerts one bulk triage request may name: a screenful of selected rows, with room. */
export const MAX_BULK_TRIAGE_ALERTS = 500;

/**
 * The body of `POST /v1/alerts/triage`: one change for many alerts (the
 * console's bulk acknowledge, assign and resolve). Each alert is changed in
 * a transaction of its own, as if asked one by one.
 */
export const bulkTriageSchema = z.strictObject({
  alertIds: z.array(z.uuid()).min(1).max(MAX_BULK_TRIAGE_ALERTS),
  change: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('status'), status: triageStatusSchema, note: noteText().optional() }),
    z.strictObject({
      kind: z.literal('assignee'),
      assignee: storableString().trim().min(1).max(256).nullable(),
    }),
  ]),
});
export type BulkTriage = z.input<typeof bulkTriageSchema>;

/** The answer: one result per alert named, in the order named; a refusal for one leaves the others done. */
export const bulkTriageResultSchema = z.strictObject({
  results: z.array(
    z.union([
      z.strictObject({ alertId: z.uuid(), ok: z.literal(true), update: triageUpdateSchema }),
      z.strictObject({ alertId: z.uuid(), ok: z.literal(false), code: z.string(), message: z.string() }),
    ]),
  ),
});
export type BulkTriageResult = z.infer<typeof bulkTriageResultSchema>;

/**
 * The answer of `GET /v1/alerts/summary`: the counters and heat map of the
 * feed, computed by the gateway over every alert the caller may see (never
 * over what one page happened to load), so every tab shows the same numbers.
 */
export const alertSummarySchema = z.strictObject({
  /** When it was computed. */
  at: z.iso.datetime({ offset: true }),
  /** Real alerts not resolved nor dismissed, per severity of the caller's view. */
  open: z.record(severitySchema, z.number().int().nonnegative()),
  /** Exercise alerts not resolved nor dismissed. */
  openExercise: z.number().int().nonnegative(),
  /** Every alert the caller may see. */
  total: z.number().int().nonnegative(),
  /** Analysts only: reports received in the last hour that are in alerts. */
  reportsLastHour: z.number().int().nonnegative().nullable(),
  /** Analysts only: reports in alerts over the last 24 hours, per sector and category (only non-zero cells). */
  heatMap: z
    .array(z.strictObject({ sector: sectorSchema, category: reportCategorySchema, count: z.number().int() }))
    .nullable(),
});
export type AlertSummary = z.infer<typeof alertSummarySchema>;
