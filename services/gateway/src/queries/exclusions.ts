import type { Queryable } from '@renkei/db';
import type { ExclusionView } from '@renkei/schema';

interface Row {
  id: string;
  type: ExclusionView['type'];
  canonical: string | null;
  network: string | null;
  note: string;
  created_by: string;
  created_at: string;
}

const COLUMNS = `id, type, canonical, network::text AS network, note, created_by, created_at`;

function viewOf(row: Row): ExclusionView {
  return {
    id: row.id,
    type: row.type,
    value: row.canonical,
    cidr: row.network,
    note: row.note,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

export async function insertExclusion(db: Queryable, exclusion: ExclusionView): Promise<ExclusionView> {
  const { rows } = await db.query<Row>(
    `INSERT INTO exclusions (id, type, canonical, network, note, created_by, created_at)
     VALUES ($1, $2, $3, $4::cidr, $5, $6, $7)
     RETURNING ${COLUMNS}`,
    [
      exclusion.id,
      exclusion.type,
      exclusion.value,
      exclusion.cidr,
      exclusion.note,
      exclusion.createdBy,
      exclusion.createdAt,
    ],
  );
  return viewOf(rows[0]!);
}

export async function listExclusions(db: Queryable): Promise<ExclusionView[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM exclusions WHERE removed_at IS NULL ORDER BY created_at DESC, id`,
  );
  return rows.map(viewOf);
}

export async function removeExclusion(
  db: Queryable,
  id: string,
  by: string,
): Promise<ExclusionView | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE exclusions SET removed_at = $3, removed_by = $2
      WHERE id = $1 AND removed_at IS NULL
      RETURNING ${COLUMNS}`,
    [id, by, new Date().toISOString()],
  );
  return rows[0] && viewOf(rows[0]);
}
