import type { Queryable } from '@renkei/db';
import type { WatchlistEntryView } from '@renkei/schema';

interface Row {
  id: string;
  type: WatchlistEntryView['type'];
  value: string;
  canonical_type: WatchlistEntryView['type'];
  canonical: string;
  note: string;
  expires_at: string | null;
  created_by: string;
  created_at: string;
}

const COLUMNS = `id, type, value, canonical_type, canonical, note, expires_at, created_by, created_at`;

function viewOf(row: Row): WatchlistEntryView {
  return {
    id: row.id,
    type: row.type,
    value: row.value,
    canonical: { type: row.canonical_type, value: row.canonical },
    note: row.note,
    expiresAt: row.expires_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/** Adds an entry; the correlator then matches it against stored reports and every later one. */
export async function insertWatchlistEntry(
  db: Queryable,
  entry: WatchlistEntryView,
): Promise<WatchlistEntryView> {
  const { rows } = await db.query<Row>(
    `INSERT INTO watchlist_entries (id, type, value, canonical_type, canonical, note, expires_at, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     RETURNING ${COLUMNS}`,
    [
      entry.id,
      entry.type,
      entry.value,
      entry.canonical.type,
      entry.canonical.value,
      entry.note,
      entry.expiresAt,
      entry.createdBy,
      entry.createdAt,
    ],
  );
  return viewOf(rows[0]!);
}

/** Entries not removed, newest first (expired ones too: they show when they stopped matching). */
export async function listWatchlistEntries(db: Queryable): Promise<WatchlistEntryView[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM watchlist_entries WHERE removed_at IS NULL ORDER BY created_at DESC, id`,
  );
  return rows.map(viewOf);
}

/** Marks an entry removed (kept: alerts and the audit log name it); false when there is none to remove. */
export async function removeWatchlistEntry(
  db: Queryable,
  id: string,
  by: string,
): Promise<WatchlistEntryView | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE watchlist_entries SET removed_at = $3, removed_by = $2
      WHERE id = $1 AND removed_at IS NULL
      RETURNING ${COLUMNS}`,
    [id, by, new Date().toISOString()],
  );
  return rows[0] && viewOf(rows[0]);
}
