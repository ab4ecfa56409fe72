import type { Queryable } from '@renkei/db';
import type { TriageStatus, TriageUpdate } from '@renkei/schema';

export interface TriageState {
  status: TriageStatus;
  assignee: string | null;
}

/**
 * The alert's triage state, locked until the transaction ends, so changes
 * to one alert happen one after another and append their feed events in the
 * order they were made. Undefined when there is no such alert.
 */
export async function lockTriage(db: Queryable, alertId: string): Promise<TriageState | undefined> {
  // The row is made on first use; concurrent first uses wait for one another here.
  await db.query(
    `INSERT INTO alert_triage (alert_id, status)
     SELECT id, 'new' FROM alerts WHERE id = $1
     ON CONFLICT (alert_id) DO NOTHING`,
    [alertId],
  );
  const { rows } = await db.query<TriageState>(
    `SELECT status, assignee FROM alert_triage WHERE alert_id = $1 FOR UPDATE`,
    [alertId],
  );
  return rows[0];
}

/** Stores the state after a change and the change itself; returns the change with its time. */
export async function saveTriageChange(
  db: Queryable,
  change: {
    alertId: string;
    kind: 'status' | 'assignee' | 'note';
    state: TriageState;
    note: string | null;
    by: string;
    organisationId: string;
  },
): Promise<TriageUpdate> {
  const { rows } = await db.query<{ at: string }>(
    `UPDATE alert_triage SET status = $2, assignee = $3, updated_by = $4, updated_at = clock_timestamp()
      WHERE alert_id = $1
      RETURNING updated_at AS at`,
    [change.alertId, change.state.status, change.state.assignee, change.by],
  );
  const at = rows[0]!.at;
  await db.query(
    `INSERT INTO alert_triage_changes
       (alert_id, change, status, assignee, note, changed_by, organisation_id, changed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      change.alertId,
      change.kind,
      change.state.status,
      change.state.assignee,
      change.note,
      change.by,
      change.organisationId,
      at,
    ],
  );
  return {
    alertId: change.alertId,
    status: change.state.status,
    assignee: change.state.assignee,
    note: change.note,
    by: change.by,
    at,
  };
}

export async function findTriage(db: Queryable, alertId: string): Promise<TriageState> {
  const { rows } = await db.query<TriageState>(
    `SELECT status, assignee FROM alert_triage WHERE alert_id = $1`,
    [alertId],
  );
  return rows[0] ?? { status: 'new', assignee: null };
}

/** The triage status of each alert that has left `new`; alerts missing from the map are `new`. */
export async function triageStatusesOf(
  db: Queryable,
  alertIds: readonly string[],
): Promise<Map<string, TriageStatus>> {
  if (alertIds.length === 0) return new Map();
  const { rows } = await db.query<{ alert_id: string; status: TriageStatus }>(
    `SELECT alert_id, status FROM alert_triage WHERE alert_id = ANY($1::uuid[])`,
    [alertIds],
  );
  return new Map(rows.map((row) => [row.alert_id, row.status]));
}

/** Every change to the alert's triage, oldest first. */
export async function listTriageHistory(db: Queryable, alertId: string): Promise<TriageUpdate[]> {
  const { rows } = await db.query<TriageUpdate>(
    `SELECT alert_id AS "alertId", status, assignee, note, changed_by AS by, changed_at AS at
       FROM alert_triage_changes WHERE alert_id = $1 ORDER BY id`,
    [alertId],
  );
  return rows;
}
