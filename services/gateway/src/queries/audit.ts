import type { Queryable } from '@renkei/db';
import type { AuditEvent, AuditKind } from '@renkei/schema';

export interface AuditFilter {
  before: string | undefined;
  actor: string | undefined;
  organisationId: string | undefined;
  kind: AuditKind | undefined;
  since: string | undefined;
  until: string | undefined;
  limit: number;
}

/** Audit events newest first, before a cursor (the event id), filtered. */
export async function listAuditEvents(db: Queryable, filter: AuditFilter): Promise<AuditEvent[]> {
  const { rows } = await db.query<AuditEvent>(
    `SELECT id::text AS id, at, kind, actor, organisation_id AS "organisationId", object, outcome, details
       FROM audit_events
      WHERE ($1::bigint IS NULL OR id < $1::bigint)
        AND ($2::text IS NULL OR actor = $2)
        AND ($3::text IS NULL OR organisation_id = $3)
        AND ($4::text IS NULL OR kind = $4)
        AND ($5::timestamptz IS NULL OR at >= $5)
        AND ($6::timestamptz IS NULL OR at < $6)
      ORDER BY audit_events.id DESC
      LIMIT $7`,
    [
      filter.before ?? null,
      filter.actor ?? null,
      filter.organisationId ?? null,
      filter.kind ?? null,
      filter.since ?? null,
      filter.until ?? null,
      filter.limit,
    ],
  );
  return rows;
}
