import type { Queryable } from '@renkei/db';
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

/** Records the id before the Kafka send. Returns the row already there, if any. */
export async function claimSubmission(
  db: Queryable,
  envelope: ReportEnvelope,
): Promise<SubmissionRow | undefined> {
  const inserted = await db.query(
    `INSERT INTO report_submissions
       (id, organisation_id, sector, submitted_by, content_sha256, envelope, state, received_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)
     ON CONFLICT (id) DO NOTHING`,
    [
      envelope.id,
      envelope.organisationId,
      envelope.sector,
      envelope.submittedBy,
      envelope.contentSha256,
      envelope,
      envelope.receivedAt,
    ],
  );
  if (inserted.rowCount === 1) return undefined;
  return findSubmission(db, envelope.id);
}

/** Marks the report accepted; true when this call did (not a retry of an accepted one). */
export async function markAccepted(db: Queryable, id: string): Promise<boolean> {
  const result = await db.query(
    `UPDATE report_submissions SET state = 'accepted', accepted_at = now() WHERE id = $1 AND state = 'pending'`,
    [id],
  );
  return result.rowCount === 1;
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
