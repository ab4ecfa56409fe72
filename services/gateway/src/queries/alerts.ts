import type { Queryable } from '@renkei/db';
import type { AlertRecord, Tlp } from '@renkei/schema';

export interface AlertRow {
  /** The feed position of this version. */
  cursor: string;
  /** The version placed at this position. */
  version: number;
  /** The alert's latest record. */
  record: AlertRecord;
}

/**
 * Alert versions before a cursor, newest first, at most `limit`, each with
 * its alert's latest record. A viewer's list shows an alert at the version
 * that last changed what that viewer sees, so every version is a candidate;
 * `latestOnly` (viewers who see every version) keeps just each alert's
 * latest. `tlps` pre-filters with the levels the policy says are worth
 * fetching; null means every level.
 */
export async function listAlertsBefore(
  db: Queryable,
  {
    before,
    tlps,
    latestOnly,
    limit,
  }: { before: string | undefined; tlps: readonly Tlp[] | null; latestOnly: boolean; limit: number },
): Promise<AlertRow[]> {
  const { rows } = await db.query<AlertRow>(
    `SELECT v.position::text AS cursor, v.version, a.record FROM alert_versions v
       JOIN alerts a ON a.id = v.alert_id
      WHERE v.position IS NOT NULL
        AND ($1::bigint IS NULL OR v.position < $1::bigint)
        AND ($2::text[] IS NULL OR a.tlp = ANY($2::text[]))
        AND (NOT $3::boolean OR v.version = a.version)
      ORDER BY v.position DESC
      LIMIT $4`,
    [before ?? null, tlps, latestOnly, limit],
  );
  return rows;
}
