import type { Queryable } from '@renkei/db';
import { AUDIT_EVENT_COLUMNS, auditEventArrays } from '@renkei/audit';
import type { ReportEnvelope } from '@renkei/schema';

export interface SubmissionRow {
  id: string;
  organisation_id: string;
  sector: string;
  content_sha256: string;
  state: 'pending' | 'accepted';
  envelope: ReportEnvelope;
  received_at: string;
  processed_at: string | null;
}

export async function findSubmission(db: Queryable, id: string): Promise<SubmissionRow | undefined> {
  const result = await db.query<SubmissionRow>(
    `SELECT s.id, s.organisation_id, s.sector, s.content_sha256, s.state, s.envelope, s.received_at,
            r.processed_at
       FROM report_submissions s
       LEFT JOIN reports r ON r.id = s.id
      WHERE s.id = $1`,
    [id],
  );
  return result.rows[0];
}

/**
 * Records a batch of ids before their Kafka send, in one statement. Returns
 * the ids this call inserted; the others were already there (see
 * {@link findSubmissions}).
 */
export async function claimSubmissions(
  db: Queryable,
  /** The envelopes, each already serialised as JSON. */
  envelopes: readonly string[],
): Promise<Set<string>> {
  if (envelopes.length === 0) return new Set();
  // One JSON array, not one array parameter per column: pg would send the
  // envelopes as a jsonb[] literal, escaping every quote in them, and
  // PostgreSQL would parse that back (that escaping was most of the
  // correlator's write time before it moved to JSON arrays the same way).
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO report_submissions
       (id, organisation_id, sector, submitted_by, content_sha256, envelope, state, received_at)
     SELECT (e->>'id')::uuid, e->>'organisationId', e->>'sector', e->>'submittedBy', e->>'contentSha256',
            e, 'pending', (e->>'receivedAt')::timestamptz
       FROM jsonb_array_elements($1::jsonb) AS e
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [`[${envelopes.join(',')}]`],
  );
  return new Set(rows.map((row) => row.id));
}

/** The ledger rows of these ids (a batch's earlier submissions). */
export async function findSubmissions(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, SubmissionRow>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<SubmissionRow>(
    `SELECT s.id, s.organisation_id, s.sector, s.content_sha256, s.state, s.envelope, s.received_at,
            NULL::timestamptz AS processed_at
       FROM report_submissions s
      WHERE s.id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

/**
 * Marks a batch accepted once Kafka acknowledged it, and audits each report
 * it marked (once per report: a retry of an already accepted one is neither
 * marked nor audited again). One statement, so atomic without the three
 * round trips of a transaction around two; every request of the batch
 * waits for it. Returns the ids this call marked.
 */
export async function acceptSubmissions(
  db: Queryable,
  envelopes: readonly ReportEnvelope[],
): Promise<Set<string>> {
  if (envelopes.length === 0) return new Set();
  const audits = envelopes.map((envelope) => ({
    kind: 'report.submitted' as const,
    actor: envelope.submittedBy,
    organisationId: envelope.organisationId,
    object: envelope.id,
    outcome: 'success' as const,
    details: { tlp: envelope.report.tlp, exercise: envelope.report.exercise },
  }));
  const { rows } = await db.query<{ id: string }>(
    `WITH marked AS (
       UPDATE report_submissions SET state = 'accepted', accepted_at = now()
        WHERE id = ANY($1::uuid[]) AND state = 'pending'
        RETURNING id
     ), audited AS (
       INSERT INTO audit_events (${AUDIT_EVENT_COLUMNS})
       SELECT ${AUDIT_EVENT_COLUMNS}
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[])
              WITH ORDINALITY AS a(${AUDIT_EVENT_COLUMNS}, n)
        WHERE a.object::uuid IN (SELECT id FROM marked)
        ORDER BY a.n
     )
     SELECT id FROM marked`,
    [envelopes.map((envelope) => envelope.id), ...auditEventArrays(audits)],
  );
  return new Set(rows.map((row) => row.id));
}
