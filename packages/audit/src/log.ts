import type { Queryable } from '@renkei/db';
import { auditEntrySchema, type AuditEntry } from '@renkei/schema';

/**
 * Appends one event to the audit log. Pass the transaction that makes the
 * act true, so the act and its record commit (or fail) together.
 */
export async function recordAudit(db: Queryable, entry: AuditEntry): Promise<void> {
  const event = auditEntrySchema.parse(entry);
  await db.query(
    `INSERT INTO audit_events (kind, actor, organisation_id, object, outcome, details)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [event.kind, event.actor, event.organisationId, event.object, event.outcome, event.details],
  );
}

/** Appends several events in one statement (a batch of submissions, say), in the caller's transaction. */
export async function recordAudits(db: Queryable, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO audit_events (${AUDIT_EVENT_COLUMNS})
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])`,
    auditEventArrays(entries),
  );
}

/** The columns of `audit_events` that `auditEventArrays` fills, in its order. */
export const AUDIT_EVENT_COLUMNS = 'kind, actor, organisation_id, object, outcome, details';

/**
 * Validated events as one array per column (five text[], then jsonb[]), for
 * a statement that writes them together with something else, such as
 * ingest's acceptance of a batch.
 */
export function auditEventArrays(entries: readonly AuditEntry[]): (string | null)[][] {
  const events = entries.map((entry) => auditEntrySchema.parse(entry));
  return [
    events.map((event) => event.kind),
    events.map((event) => event.actor),
    events.map((event) => event.organisationId),
    events.map((event) => event.object),
    events.map((event) => event.outcome),
    events.map((event) => JSON.stringify(event.details)),
  ];
}
