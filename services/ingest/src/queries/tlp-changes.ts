import type { Queryable } from '@renkei/db';
import type { Tlp, TlpChangeMessage } from '@renkei/schema';

export interface TlpChangeRow {
  tlp: Tlp;
  state: 'pending' | 'accepted';
  message: TlpChangeMessage;
}

/** Every TLP change asked for on this report, accepted or not. */
export async function findTlpChanges(db: Queryable, reportId: string): Promise<TlpChangeRow[]> {
  const { rows } = await db.query<TlpChangeRow>(
    `SELECT tlp, state, message FROM report_tlp_changes WHERE report_id = $1`,
    [reportId],
  );
  return rows;
}

/**
 * Records a change before its Kafka send. When the same change was claimed
 * already (a retry, or a concurrent request), the stored row is returned and
 * its message is the one to send.
 */
export async function claimTlpChange(db: Queryable, message: TlpChangeMessage): Promise<TlpChangeRow> {
  const { rows } = await db.query<TlpChangeRow>(
    `WITH inserted AS (
       INSERT INTO report_tlp_changes (report_id, tlp, organisation_id, changed_by, message, state, received_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6)
       ON CONFLICT (report_id, tlp) DO NOTHING
       RETURNING tlp, state, message)
     SELECT * FROM inserted
     UNION ALL
     SELECT tlp, state, message FROM report_tlp_changes
      WHERE report_id = $1 AND tlp = $2 AND NOT EXISTS (SELECT 1 FROM inserted)`,
    [
      message.reportId,
      message.tlp,
      message.organisationId,
      message.changedBy,
      JSON.stringify(message),
      message.receivedAt,
    ],
  );
  // A concurrent claim of the same change committed after this statement's
  // snapshot was taken: the row is there for the next statement.
  return rows[0] ?? (await findTlpChanges(db, message.reportId)).find((row) => row.tlp === message.tlp)!;
}

/** True when this call marked it: a retry of an accepted change is not audited twice. */
export async function markTlpChangeAccepted(db: Queryable, reportId: string, tlp: Tlp): Promise<boolean> {
  const result = await db.query(
    `UPDATE report_tlp_changes SET state = 'accepted', accepted_at = now()
      WHERE report_id = $1 AND tlp = $2 AND state = 'pending'`,
    [reportId, tlp],
  );
  return result.rowCount === 1;
}
