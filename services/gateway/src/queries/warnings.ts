import type { Queryable } from '@renkei/db';
import type { Sector, WarningAck, WarningRecord } from '@renkei/schema';

export interface WarningRow {
  cursor: string;
  record: WarningRecord;
}

export async function insertWarning(db: Queryable, record: WarningRecord): Promise<void> {
  await db.query(
    `INSERT INTO warnings (id, sectors, exercise, published_by, published_at, record)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      record.id,
      record.sectors === 'all' ? null : record.sectors,
      record.exercise,
      record.publishedBy,
      record.publishedAt,
      record,
    ],
  );
}

/**
 * Warnings newest first, before a cursor. `sector` pre-filters with what the
 * policy says the viewer's inbox holds: null for every warning.
 */
export async function listWarnings(
  db: Queryable,
  { sector, before, limit }: { sector: Sector | null; before: string | undefined; limit: number },
): Promise<WarningRow[]> {
  const { rows } = await db.query<WarningRow>(
    `SELECT seq::text AS cursor, record FROM warnings
      WHERE ($1::text IS NULL OR sectors IS NULL OR $1::text = ANY(sectors))
        AND ($2::bigint IS NULL OR seq < $2::bigint)
      ORDER BY seq DESC
      LIMIT $3`,
    [sector, before ?? null, limit],
  );
  return rows;
}

export async function findWarning(db: Queryable, id: string): Promise<WarningRecord | undefined> {
  const { rows } = await db.query<{ record: WarningRecord }>(`SELECT record FROM warnings WHERE id = $1`, [
    id,
  ]);
  return rows[0]?.record;
}

/** Records an acknowledgement once per organisation; returns it, and whether this call made it. */
export async function acknowledge(
  db: Queryable,
  ack: Omit<WarningAck, 'at'>,
): Promise<{ ack: WarningAck; created: boolean }> {
  const inserted = await db.query<{ at: string }>(
    `INSERT INTO warning_acks (warning_id, organisation_id, acknowledged_by) VALUES ($1, $2, $3)
     ON CONFLICT (warning_id, organisation_id) DO NOTHING
     RETURNING acknowledged_at AS at`,
    [ack.warningId, ack.organisationId, ack.by],
  );
  if (inserted.rows[0]) return { ack: { ...ack, at: inserted.rows[0].at }, created: true };
  const existing = await db.query<{ by: string; at: string }>(
    `SELECT acknowledged_by AS by, acknowledged_at AS at FROM warning_acks
      WHERE warning_id = $1 AND organisation_id = $2`,
    [ack.warningId, ack.organisationId],
  );
  const row = existing.rows[0]!;
  return { ack: { ...ack, by: row.by, at: row.at }, created: false };
}

export async function acknowledgementsOf(
  db: Queryable,
  warningId: string,
): Promise<{ organisationId: string; at: string }[]> {
  const { rows } = await db.query<{ organisationId: string; at: string }>(
    `SELECT organisation_id AS "organisationId", acknowledged_at AS at FROM warning_acks
      WHERE warning_id = $1 ORDER BY acknowledged_at, organisation_id`,
    [warningId],
  );
  return rows;
}
