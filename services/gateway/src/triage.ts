import { recordAudit } from '@renkei/audit';
import { withTransaction, type Pool } from '@renkei/db';
import { appendToFeed } from '@renkei/feed';
import { RenkeiError } from '@renkei/runtime';
import { canMoveTriage, type Principal, type TriageStatus, type TriageUpdate } from '@renkei/schema';
import { lockTriage, saveTriageChange, type TriageState } from './queries/triage.js';

/** What an analyst asks of an alert's triage. */
export type TriageRequest =
  | { kind: 'status'; status: TriageStatus; note?: string | undefined }
  | { kind: 'assignee'; assignee: string | null }
  | { kind: 'note'; text: string };

/**
 * The state after the request, or why it cannot be made. Pure: the rules of
 * the watch floor (which status may follow which) live here and in
 * `TRIAGE_TRANSITIONS`, not in SQL.
 */
export function nextTriageState(
  current: TriageState,
  request: TriageRequest,
): { state: TriageState; note: string | null } | { refused: string } {
  switch (request.kind) {
    case 'status':
      if (request.status === current.status) return { refused: `the alert is already ${current.status}` };
      if (!canMoveTriage(current.status, request.status))
        return { refused: `an alert cannot move from ${current.status} to ${request.status}` };
      return { state: { ...current, status: request.status }, note: request.note ?? null };
    case 'assignee':
      if (request.assignee === current.assignee)
        return {
          refused:
            request.assignee === null ? 'nobody is assigned' : `already assigned to ${request.assignee}`,
        };
      return { state: { ...current, assignee: request.assignee }, note: null };
    case 'note':
      return { state: current, note: request.text };
  }
}

/**
 * Applies a triage change in one transaction: the new state, the change in
 * the history, the audit event and the `alert-update` feed event commit
 * together or not at all, so every analyst on every gateway sees it live, in
 * feed order, exactly when it is true.
 */
export async function applyTriage(
  pool: Pool,
  principal: Principal,
  alertId: string,
  request: TriageRequest,
): Promise<TriageUpdate> {
  return withTransaction(pool, async (db) => {
    const current = await lockTriage(db, alertId);
    if (!current) throw new RenkeiError('RENKEI_NOT_FOUND', `no alert ${alertId}`);
    const next = nextTriageState(current, request);
    if ('refused' in next) throw new RenkeiError('RENKEI_CONFLICT', next.refused);
    const update = await saveTriageChange(db, {
      alertId,
      kind: request.kind,
      state: next.state,
      note: next.note,
      by: principal.subject,
      organisationId: principal.organisationId,
    });
    await recordAudit(db, {
      kind: 'alert.triaged',
      actor: principal.subject,
      organisationId: principal.organisationId,
      object: alertId,
      outcome: 'success',
      details: {
        change: request.kind,
        ...(request.kind === 'status' ? { from: current.status, to: next.state.status } : {}),
        ...(request.kind === 'assignee' ? { from: current.assignee, to: next.state.assignee } : {}),
      },
    });
    await appendToFeed(db, [{ kind: 'alert-update', payload: update }]);
    return update;
  });
}
