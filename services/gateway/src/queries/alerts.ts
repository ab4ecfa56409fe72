import type { Queryable } from '@renkei/db';
import type { AlertRecord, Tlp, TriageStatus } from '@renkei/schema';

export interface AlertRow {
  /** The feed position of the alert's latest version (or, in lists, of the version placed there). */
  cursor: string;
  record: AlertRecord;
}

export interface VersionRow extends AlertRow {
  /** The version placed at this position; `record` is still the alert's latest. */
  version: number;
}

/**
 * A viewer's list shows an alert at the version that last changed what that
 * viewer sees, so every version is a candidate row; `latestOnly` (viewers who
 * see every version) keeps just each alert's latest. `tlps` pre-filters with
 * the levels the policy says are worth fetching; null means every level.
 */
interface ListFilter {
  tlps: readonly Tlp[] | null;
  latestOnly: boolean;
  limit: number;
}

/** Alert versions before a cursor, newest first, each with its alert's latest record. */
export async function listAlertsBefore(
  db: Queryable,
  { before, tlps, latestOnly, limit }: ListFilter & { before: string | undefined },
): Promise<VersionRow[]> {
  const { rows } = await db.query<VersionRow>(
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

/**
 * Alert versions after a cursor, oldest first: what changed since a client
 * last looked. An alert that changes again while a client pages is met
 * again further on, in its newer version.
 */
export async function listAlertsAfter(
  db: Queryable,
  { after, tlps, latestOnly, limit }: ListFilter & { after: string },
): Promise<VersionRow[]> {
  const { rows } = await db.query<VersionRow>(
    `SELECT v.position::text AS cursor, v.version, a.record FROM alert_versions v
       JOIN alerts a ON a.id = v.alert_id
      WHERE v.position > $1::bigint
        AND ($2::text[] IS NULL OR a.tlp = ANY($2::text[]))
        AND (NOT $3::boolean OR v.version = a.version)
      ORDER BY v.position
      LIMIT $4`,
    [after, tlps, latestOnly, limit],
  );
  return rows;
}

/** The alert's latest version, once it is on the feed. */
export async function findAlert(db: Queryable, id: string): Promise<AlertRow | undefined> {
  const { rows } = await db.query<AlertRow>(
    `SELECT position::text AS cursor, record FROM alerts WHERE id = $1 AND position IS NOT NULL`,
    [id],
  );
  return rows[0];
}

/** Every version of the alert that is on the feed, oldest first, each with its own record. */
export async function listAlertVersions(db: Queryable, id: string): Promise<VersionRow[]> {
  const { rows } = await db.query<VersionRow>(
    `SELECT position::text AS cursor, version, record FROM alert_versions
      WHERE alert_id = $1 AND position IS NOT NULL
      ORDER BY version`,
    [id],
  );
  return rows;
}

/** Every alert on the feed at its latest version, with where its triage stands (`new` when never triaged). */
export async function listAlertsWithTriage(
  db: Queryable,
): Promise<{ record: AlertRecord; status: TriageStatus }[]> {
  const { rows } = await db.query<{ record: AlertRecord; status: TriageStatus }>(
    `SELECT a.record, COALESCE(t.status, 'new') AS status FROM alerts a
       LEFT JOIN alert_triage t ON t.alert_id = a.id
      WHERE a.position IS NOT NULL`,
  );
  return rows;
}
