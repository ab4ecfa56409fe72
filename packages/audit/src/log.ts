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
