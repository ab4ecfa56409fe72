import type { ReportEnvelope } from '@renkei/schema';

/** What the catch-up needs of a ledger row. */
export interface LedgerRow {
  id: string;
  organisationId: string;
  contentSha256: string;
  state: 'pending' | 'accepted';
  /** The catch-up has read this row's body on the topic. */
  confirmed: boolean;
}

/** A report message as the catch-up reads it, in partition order. */
export interface TopicReport {
  envelope: ReportEnvelope;
  partition: number;
  offset: string;
}

/** A message that lost its id to an earlier one: the correlator did not store it. */
export interface LedgerConflict {
  report: TopicReport;
  /** The body the ledger (and the correlator) holds for the id. */
  kept: { organisationId: string; contentSha256: string };
}

/** What one batch of the topic changes in the ledger. */
export interface LedgerCatchUpPlan {
  /** Ids with no row: a row made of the message, accepted and confirmed. */
  inserts: ReportEnvelope[];
  /**
   * Rows to mark accepted and confirmed; with an envelope when the row's own
   * body never came first on the topic and this one did, so it takes its place.
   */
  updates: { id: string; envelope?: ReportEnvelope }[];
  /** `report.submitted` to audit: one per id that becomes accepted here, with the body that won. */
  submitted: ReportEnvelope[];
  conflicts: LedgerConflict[];
}

/**
 * Brings the ledger rows of a batch in line with the topic, message by
 * message in partition order, as the correlator reads them: the first body
 * on the topic for an id is the report, and a later different body (or the
 * same body from another organisation) is a conflict. A row is audited as
 * submitted once, when it first becomes accepted, here or on the request path.
 */
export function planLedgerCatchUp(
  rows: ReadonlyMap<string, LedgerRow>,
  reports: readonly TopicReport[],
): LedgerCatchUpPlan {
  const current = new Map(rows);
  const plan: LedgerCatchUpPlan = { inserts: [], updates: [], submitted: [], conflicts: [] };

  for (const report of reports) {
    const { envelope } = report;
    const row = current.get(envelope.id);
    const next: LedgerRow = {
      id: envelope.id,
      organisationId: envelope.organisationId,
      contentSha256: envelope.contentSha256,
      state: 'accepted',
      confirmed: true,
    };
    if (!row) {
      plan.inserts.push(envelope);
      plan.submitted.push(envelope);
      current.set(envelope.id, next);
      continue;
    }
    const same =
      row.organisationId === envelope.organisationId && row.contentSha256 === envelope.contentSha256;
    if (!same && row.confirmed) {
      plan.conflicts.push({
        report,
        kept: { organisationId: row.organisationId, contentSha256: row.contentSha256 },
      });
      continue;
    }
    if (same && row.confirmed && row.state === 'accepted') continue; // a repeat of what the ledger holds
    if (row.state === 'pending') plan.submitted.push(envelope);
    // Once confirmed, a later message for the id is a repeat or a conflict,
    // so each id is updated at most once per batch.
    current.set(envelope.id, next);
    // A different body on a row not confirmed: this message precedes the
    // row's own on the topic (if that ever got there), so it is the report.
    plan.updates.push(same ? { id: envelope.id } : { id: envelope.id, envelope });
  }
  return plan;
}
