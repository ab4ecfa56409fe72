import type { Queryable } from '@renkei/db';
import { AUDIT_EVENT_COLUMNS, auditEventArrays, recordAudits } from '@renkei/audit';
import type { AuditEntry, ReportEnvelope } from '@renkei/schema';
import type { LedgerCatchUpPlan, LedgerRow } from '../ledger-plan.js';

export interface SubmissionRow {
  id: string;
  organisation_id: string;
  sector: string;
  content_sha256: string;
  state: 'pending' | 'accepted';
  envelope: ReportEnvelope;
  received_at: string;
  processed_at: string | null;
}

export async function findSubmission(db: Queryable, id: string): Promise<SubmissionRow | undefined> {
  const result = await db.query<SubmissionRow>(
    `SELECT s.id, s.organisation_id, s.sector, s.content_sha256, s.state, s.envelope, s.received_at,
            r.processed_at
       FROM report_submissions s
       LEFT JOIN reports r ON r.id = s.id
      WHERE s.id = $1`,
    [id],
  );
  return result.rows[0];
}

/**
 * Records a batch of ids before their Kafka send, in one statement. Returns
 * the ids this call inserted; the others were already there (see
 * {@link findSubmissions}).
 */
export async function claimSubmissions(
  db: Queryable,
  /** The envelopes, each already serialised as JSON. */
  envelopes: readonly string[],
): Promise<Set<string>> {
  if (envelopes.length === 0) return new Set();
  // One JSON array, not one array parameter per column: pg would send the
  // envelopes as a jsonb[] literal, escaping every quote in them, and
  // PostgreSQL would parse that back (that escaping was most of the
  // correlator's write time before it moved to JSON arrays the same way).
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO report_submissions
       (id, organisation_id, sector, submitted_by, content_sha256, envelope, state, received_at)
     SELECT (e->>'id')::uuid, e->>'organisationId', e->>'sector', e->>'submittedBy', e->>'contentSha256',
            e, 'pending', (e->>'receivedAt')::timestamptz
       FROM jsonb_array_elements($1::jsonb) AS e
      ORDER BY (e->>'id')::uuid
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [`[${envelopes.join(',')}]`],
  );
  return new Set(rows.map((row) => row.id));
}

/** The ledger rows of these ids (a batch's earlier submissions). */
export async function findSubmissions(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, SubmissionRow>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<SubmissionRow>(
    `SELECT s.id, s.organisation_id, s.sector, s.content_sha256, s.state, s.envelope, s.received_at,
            NULL::timestamptz AS processed_at
       FROM report_submissions s
      WHERE s.id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

/** `report.submitted`, written once per report, by whichever path marks its row accepted. */
function submittedAudit(envelope: ReportEnvelope): AuditEntry {
  return {
    kind: 'report.submitted',
    actor: envelope.submittedBy,
    organisationId: envelope.organisationId,
    object: envelope.id,
    outcome: 'success',
    details: { tlp: envelope.report.tlp, exercise: envelope.report.exercise },
  };
}

/**
 * Marks a batch accepted once Kafka acknowledged it, and audits each report
 * it marked (once per report: a retry of an already accepted one is neither
 * marked nor audited again). One statement, so atomic without the three
 * round trips of a transaction around two; every request of the batch
 * waits for it. Returns the ids this call marked.
 *
 * Rows are locked in id order, as the ledger catch-up locks them
 * ({@link lockLedgerRows}) and as both insert them: a bare `UPDATE … WHERE
 * id = ANY(…)` takes them in whatever order its plan reads them, and the two
 * paths then deadlocked, one waiting out `deadlock_timeout` before its retry.
 */
export async function acceptSubmissions(
  db: Queryable,
  envelopes: readonly ReportEnvelope[],
): Promise<Set<string>> {
  if (envelopes.length === 0) return new Set();
  const audits = envelopes.map(submittedAudit);
  const { rows } = await db.query<{ id: string }>(
    `WITH locked AS (
       SELECT id FROM report_submissions
        WHERE id = ANY($1::uuid[]) AND state = 'pending'
        ORDER BY id
          FOR UPDATE
     ), marked AS (
       UPDATE report_submissions s SET state = 'accepted', accepted_at = now()
         FROM locked WHERE s.id = locked.id
        RETURNING s.id
     ), audited AS (
       INSERT INTO audit_events (${AUDIT_EVENT_COLUMNS})
       SELECT ${AUDIT_EVENT_COLUMNS}
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[])
              WITH ORDINALITY AS a(${AUDIT_EVENT_COLUMNS}, n)
        WHERE a.object::uuid IN (SELECT id FROM marked)
        ORDER BY a.n
     )
     SELECT id FROM marked`,
    [envelopes.map((envelope) => envelope.id), ...auditEventArrays(audits)],
  );
  return new Set(rows.map((row) => row.id));
}

/**
 * The ledger rows of a batch read from the topic, locked until the catch-up's
 * transaction ends, so the request path's acceptance of the same rows waits
 * and then finds them accepted (and audits nothing). In id order, so two
 * catch-up transactions never deadlock on each other.
 */
export async function lockLedgerRows(db: Queryable, ids: readonly string[]): Promise<Map<string, LedgerRow>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{
    id: string;
    organisation_id: string;
    content_sha256: string;
    state: 'pending' | 'accepted';
    confirmed: boolean;
  }>(
    `SELECT id, organisation_id, content_sha256, state, confirmed_at IS NOT NULL AS confirmed
       FROM report_submissions
      WHERE id = ANY($1::uuid[])
      ORDER BY id
        FOR UPDATE`,
    [ids],
  );
  return new Map(
    rows.map((row) => [
      row.id,
      {
        id: row.id,
        organisationId: row.organisation_id,
        contentSha256: row.content_sha256,
        state: row.state,
        confirmed: row.confirmed,
      },
    ]),
  );
}

/** Another transaction inserted a row the catch-up planned to insert: read again and plan again. */
export class LedgerRowAppeared extends Error {
  override readonly name = 'LedgerRowAppeared';
}

/**
 * Writes a catch-up plan, in the caller's transaction (holding the rows'
 * locks from {@link lockLedgerRows}). `report.submitted` is written only for
 * rows this plan makes accepted; a conflict is audited once per id, body and
 * organisation, however often its message is read again.
 */
export async function writeLedgerCatchUp(db: Queryable, plan: LedgerCatchUpPlan): Promise<void> {
  if (plan.inserts.length > 0) {
    // The request path may claim one of these ids meanwhile (a retry after the
    // database came back); its row was not there to lock, so plan again.
    const { rowCount } = await db.query(
      `INSERT INTO report_submissions
         (id, organisation_id, sector, submitted_by, content_sha256, envelope, state, received_at,
          accepted_at, confirmed_at)
       SELECT (e->>'id')::uuid, e->>'organisationId', e->>'sector', e->>'submittedBy', e->>'contentSha256',
              e, 'accepted', (e->>'receivedAt')::timestamptz, now(), now()
         FROM jsonb_array_elements($1::jsonb) AS e
        ORDER BY (e->>'id')::uuid
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(plan.inserts)],
    );
    if (rowCount !== plan.inserts.length) {
      throw new LedgerRowAppeared('a ledger row appeared while the catch-up planned to insert it');
    }
  }
  if (plan.updates.length > 0) {
    await db.query(
      `UPDATE report_submissions s
          SET state = 'accepted',
              accepted_at = coalesce(s.accepted_at, now()),
              confirmed_at = now(),
              organisation_id = coalesce(u.e->>'organisationId', s.organisation_id),
              sector = coalesce(u.e->>'sector', s.sector),
              submitted_by = coalesce(u.e->>'submittedBy', s.submitted_by),
              content_sha256 = coalesce(u.e->>'contentSha256', s.content_sha256),
              received_at = coalesce((u.e->>'receivedAt')::timestamptz, s.received_at),
              envelope = coalesce(u.e, s.envelope)
         FROM (SELECT (x->>'id')::uuid AS id, x->'envelope' AS e FROM jsonb_array_elements($1::jsonb) AS x) u
        WHERE s.id = u.id`,
      [JSON.stringify(plan.updates)],
    );
  }
  if (plan.submitted.length > 0) {
    await recordAudits(db, plan.submitted.map(submittedAudit));
  }
  if (plan.conflicts.length > 0) {
    const entries = plan.conflicts.map(({ report, kept }) => ({
      kind: 'report.conflicted' as const,
      actor: report.envelope.submittedBy,
      organisationId: report.envelope.organisationId,
      object: report.envelope.id,
      outcome: 'denied' as const,
      details: {
        reason: 'another body was accepted for this id first; this one was not stored',
        contentSha256: report.envelope.contentSha256,
        receivedAt: report.envelope.receivedAt,
        keptContentSha256: kept.contentSha256,
        keptOrganisationId: kept.organisationId,
        partition: report.partition,
        offset: report.offset,
      },
    }));
    await db.query(
      `INSERT INTO audit_events (${AUDIT_EVENT_COLUMNS})
       SELECT ${AUDIT_EVENT_COLUMNS}
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
              AS a(${AUDIT_EVENT_COLUMNS})
        WHERE NOT EXISTS (
          SELECT 1 FROM audit_events x
           WHERE x.kind = a.kind AND x.object = a.object
             AND x.organisation_id IS NOT DISTINCT FROM a.organisation_id
             AND x.details->>'contentSha256' = a.details->>'contentSha256')`,
      auditEventArrays(entries),
    );
  }
}
