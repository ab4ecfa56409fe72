import type { Queryable } from '@renkei/db';
import type { AlertRecord, Tlp } from '@renkei/schema';

export interface AlertRow {
  cursor: string;
  record: AlertRecord;
}

/**
 * The newest alerts before a cursor, at most `limit`. `tlps` pre-filters in
 * SQL (so pages stay full) with the levels the policy says the viewer may
 * see; null means every level.
 */
export async function listAlertsBefore(
  db: Queryable,
  { before, tlps, limit }: { before: string | undefined; tlps: readonly Tlp[] | null; limit: number },
): Promise<AlertRow[]> {
  const { rows } = await db.query<AlertRow>(
    `SELECT position::text AS cursor, record FROM alerts
      WHERE position IS NOT NULL
        AND ($1::bigint IS NULL OR position < $1::bigint)
        AND ($2::text[] IS NULL OR tlp = ANY($2::text[]))
      ORDER BY position DESC
      LIMIT $3`,
    [before ?? null, tlps, limit],
  );
  return rows;
}
