import type { Queryable } from '@renkei/db';
import type { TaxiiStatus } from '../taxii/status.js';

/** How long a status can be asked for again. */
const KEPT = `interval '1 day'`;

/** Stores an add's status, and forgets those past a day (adds are rare: this is cheap). */
export async function putTaxiiStatus(
  db: Queryable,
  organisationId: string,
  status: TaxiiStatus,
): Promise<void> {
  await db.query(`INSERT INTO taxii_statuses (id, organisation_id, status) VALUES ($1, $2, $3)`, [
    status.id,
    organisationId,
    JSON.stringify(status),
  ]);
  await db.query(`DELETE FROM taxii_statuses WHERE created_at < now() - ${KEPT}`);
}

/** The status, to the organisation that made the add only, for a day. */
export async function getTaxiiStatus(
  db: Queryable,
  organisationId: string,
  id: string,
): Promise<TaxiiStatus | undefined> {
  const { rows } = await db.query<{ status: TaxiiStatus }>(
    `SELECT status FROM taxii_statuses
      WHERE id = $1 AND organisation_id = $2 AND created_at >= now() - ${KEPT}`,
    [id, organisationId],
  );
  return rows[0]?.status;
}
