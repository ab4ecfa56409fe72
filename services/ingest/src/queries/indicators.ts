import type { Queryable } from '@renkei/db';

/** Which of a processed report's observables a warning list or local exclusion suppressed, by key. */
export async function findSuppressions(db: Queryable, reportId: string): Promise<Map<string, string>> {
  const { rows } = await db.query<{ type: string; value: string; suppressed_by: string }>(
    `SELECT type, value, suppressed_by FROM sightings WHERE report_id = $1 AND suppressed_by IS NOT NULL`,
    [reportId],
  );
  return new Map(rows.map((row) => [`${row.type}:${row.value}`, row.suppressed_by]));
}
