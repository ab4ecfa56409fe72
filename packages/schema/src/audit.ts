import { z } from 'zod';

/** What the audit log records: every security-relevant act, and who did it. */
export const AUDIT_KINDS = [
  'report.submitted',
  /** A body for an id that another body took first, found when ingest's ledger caught up from Kafka. */
  'report.conflicted',
  'report.tlp-changed',
  'warning.published',
  'warning.acknowledged',
  'watchlist.added',
  'watchlist.removed',
  'exclusion.added',
  'exclusion.removed',
  'alert.triaged',
  'organisation.added',
  'organisation.changed',
  'organisation.disabled',
  'organisation.enabled',
  'key.rotated',
  'key.retired',
  'token.refused',
  /** A token handed out without a credential: demo sign-in in development mode. */
  'token.minted',
  'access.denied',
  /** An exercise run planned, or its state changed by an analyst (start, pause, resume, abort). */
  'exercise.planned',
  'exercise.controlled',
  /** The exercise control sent an inject (a report through ingest, a warning, an information request). */
  'exercise.inject-sent',
  /** A run's after-action report frozen in its row, then every item stamped with the run removed (with counts). */
  'exercise.archived',
  'exercise.purged',
  /** A search (`GET /v1/search`): the query as read, the filters and how many items each group answered. */
  'search.performed',
  /** A bulk lookup (`POST /v1/lookup`): how many values, how many were known, a digest of the list. */
  'lookup.performed',
  /** A webhook or e-mail delivery endpoint was added, removed, or sent a test message. */
  'delivery.created',
  'delivery.deleted',
  'delivery.tested',
  /** A retention pass removed expired rows of one class: {class, count, from, to, tables, cutoff, keepDays}. */
  'retention.purged',
  /** A partner feed registered or removed by an administrator, or a poll of it asked for now (`renkei feed sync`). */
  'feed.added',
  'feed.removed',
  'feed.sync-requested',
] as const;
export const auditKindSchema = z.enum(AUDIT_KINDS);
export type AuditKind = z.infer<typeof auditKindSchema>;

export const AUDIT_OUTCOMES = ['success', 'denied', 'failure'] as const;
export const auditOutcomeSchema = z.enum(AUDIT_OUTCOMES);
export type AuditOutcome = z.infer<typeof auditOutcomeSchema>;

/** One audit event as written; the log assigns its id and time. */
export const auditEntrySchema = z.strictObject({
  kind: auditKindSchema,
  /** The token's subject; null when nobody could be identified (a refused token). */
  actor: z.string().nullable(),
  /** The actor's organisation, when known. */
  organisationId: z.string().nullable(),
  /** What was acted on: a report, warning, alert, watchlist entry, organisation or key id. */
  object: z.string().nullable(),
  outcome: auditOutcomeSchema,
  /** Why, for refusals and denials; never a token or a secret. */
  details: z.record(z.string(), z.unknown()).default({}),
});
export type AuditEntry = z.input<typeof auditEntrySchema>;

/** An audit event as `GET /v1/audit` returns it. */
export const auditEventSchema = auditEntrySchema.extend({
  id: z.string(),
  at: z.iso.datetime({ offset: true }),
});
export type AuditEvent = z.infer<typeof auditEventSchema>;
