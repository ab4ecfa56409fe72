import type { Pool } from '@renkei/db';
import { RenkeiError, type Logger } from '@renkei/runtime';
import {
  SEVERITIES,
  type AlertRecord,
  type Principal,
  type Severity,
  type TriageStatus,
} from '@renkei/schema';
import { findTriage } from './queries/triage.js';
import { applyTriage } from './triage.js';

const CLOSED: readonly TriageStatus[] = ['resolved', 'false-positive'];

/** Who the hub itself is in a triage history: not a person, so never a token's subject. */
export const HUB_PRINCIPAL: Principal = {
  subject: 'renkei',
  organisationId: 'renkei',
  sector: 'central-government',
  roles: ['analyst'],
};

/** The note of a reopening, which consoles render in their reader's language. */
export function escalationNote(from: Severity, to: Severity): string {
  return `escalated from ${from} to ${to}`;
}

/** Whether a version at `next` after one at `previous` must reopen a closed alert. */
export function isEscalation(previous: Severity, next: Severity): boolean {
  return SEVERITIES.indexOf(next) > SEVERITIES.indexOf(previous);
}

/**
 * A closed (resolved or dismissed) alert whose new version is more severe
 * goes back to `investigating`, with the reason in the triage history and an
 * `alert-update` frame to every analyst. Every gateway sees the version and
 * may try: the triage row lock lets one move it, and the others find it open.
 */
export async function reopenIfEscalated(pool: Pool, record: AlertRecord, logger: Logger): Promise<boolean> {
  if (record.version < 2) return false;
  const { rows } = await pool.query<{ severity: Severity }>(
    `SELECT record->>'severity' AS severity FROM alert_versions WHERE alert_id = $1 AND version = $2`,
    [record.id, record.version - 1],
  );
  const previous = rows[0]?.severity;
  if (!previous || !isEscalation(previous, record.severity)) return false;
  if (!CLOSED.includes((await findTriage(pool, record.id)).status)) return false;
  try {
    await applyTriage(pool, HUB_PRINCIPAL, record.id, {
      kind: 'status',
      status: 'investigating',
      note: escalationNote(previous, record.severity),
    });
    logger.info({ alertId: record.id, from: previous, to: record.severity }, 'escalated alert reopened');
    return true;
  } catch (error) {
    // Another gateway reopened it first.
    if (error instanceof RenkeiError && error.code === 'RENKEI_CONFLICT') return false;
    throw error;
  }
}
