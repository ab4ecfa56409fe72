import type { Queryable } from '@renkei/db';
import type { DeliveryContent, RecipientOrganisation } from '@renkei/delivery';
import type {
  DeliveryAttempt,
  DeliveryChannel,
  DeliveryEndpoint,
  DeliveryLanguage,
  DeliverySelection,
  DeliveryStatus,
  Severity,
  WarningReceipt,
} from '@renkei/schema';

interface EndpointRow {
  id: string;
  organisation_id: string;
  channel: DeliveryChannel;
  url: string | null;
  secret: string | null;
  addresses: string[] | null;
  send_warnings: boolean;
  alerts_min_severity: Severity | null;
  send_exercise: boolean;
  start_position: string;
  created_by: string;
  created_at: string;
}

/** An endpoint as the worker uses it: with its secret and where it starts. */
export interface StoredEndpoint extends DeliveryEndpoint {
  secret: string | null;
  startPosition: string;
}

const ENDPOINT_COLUMNS = `e.id, e.organisation_id, e.channel, e.url, e.secret, e.addresses, e.send_warnings,
  e.alerts_min_severity, e.send_exercise, e.start_position::text AS start_position, e.created_by, e.created_at`;

function endpointFromRow(row: EndpointRow): StoredEndpoint {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    channel: row.channel,
    url: row.url,
    addresses: row.addresses,
    send: {
      warnings: row.send_warnings,
      alertsMinSeverity: row.alerts_min_severity,
      exercise: row.send_exercise,
    },
    createdBy: row.created_by,
    createdAt: row.created_at,
    secret: row.secret,
    startPosition: row.start_position,
  };
}

/** The public view: never the secret. */
export function publicEndpoint({
  secret: _secret,
  startPosition: _start,
  ...endpoint
}: StoredEndpoint): DeliveryEndpoint {
  return endpoint;
}

export async function insertEndpoint(
  db: Queryable,
  endpoint: Omit<StoredEndpoint, 'createdAt' | 'startPosition'>,
): Promise<StoredEndpoint> {
  const { rows } = await db.query<EndpointRow>(
    `WITH e AS (
       INSERT INTO delivery_endpoints (id, organisation_id, channel, url, secret, addresses, send_warnings,
              alerts_min_severity, send_exercise, start_position, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
               (SELECT position FROM feed_head WHERE singleton), $10)
       RETURNING *)
     SELECT ${ENDPOINT_COLUMNS} FROM e`,
    [
      endpoint.id,
      endpoint.organisationId,
      endpoint.channel,
      endpoint.url,
      endpoint.secret,
      endpoint.addresses,
      endpoint.send.warnings,
      endpoint.send.alertsMinSeverity,
      endpoint.send.exercise,
      endpoint.createdBy,
    ],
  );
  return endpointFromRow(rows[0]!);
}

/** Live endpoints, of one organisation or (null) of every one. */
export async function listEndpoints(db: Queryable, organisationId: string | null): Promise<StoredEndpoint[]> {
  const { rows } = await db.query<EndpointRow>(
    `SELECT ${ENDPOINT_COLUMNS} FROM delivery_endpoints e
      WHERE e.deleted_at IS NULL AND ($1::text IS NULL OR e.organisation_id = $1)
      ORDER BY e.created_at DESC, e.id`,
    [organisationId],
  );
  return rows.map(endpointFromRow);
}

export async function findEndpoint(db: Queryable, id: string): Promise<StoredEndpoint | null> {
  const { rows } = await db.query<EndpointRow>(
    `SELECT ${ENDPOINT_COLUMNS} FROM delivery_endpoints e WHERE e.id = $1 AND e.deleted_at IS NULL`,
    [id],
  );
  return rows[0] ? endpointFromRow(rows[0]) : null;
}

/** Removes an endpoint; what it still had to deliver is cancelled. False when there was none. */
export async function deleteEndpoint(db: Queryable, id: string, by: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE delivery_endpoints SET deleted_at = now(), deleted_by = $2 WHERE id = $1 AND deleted_at IS NULL`,
    [id, by],
  );
  if (!rowCount) return false;
  await db.query(
    `UPDATE deliveries SET state = 'cancelled', finished_at = now() WHERE endpoint_id = $1 AND state = 'pending'`,
    [id],
  );
  return true;
}

export async function hasLiveEndpoints(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ any: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM delivery_endpoints WHERE deleted_at IS NULL) AS any',
  );
  return rows[0]!.any;
}

/** An endpoint with its organisation, as the planner judges each event for it. */
export interface PlanningTarget {
  endpoint: { id: string; organisationId: string; send: DeliverySelection; startPosition: string };
  organisation: RecipientOrganisation;
}

export async function planningTargets(db: Queryable): Promise<PlanningTarget[]> {
  const { rows } = await db.query<EndpointRow & { sector: string; kind: string; enabled: boolean }>(
    `SELECT ${ENDPOINT_COLUMNS}, o.sector, o.kind, o.enabled
       FROM delivery_endpoints e JOIN organisations o ON o.id = e.organisation_id
      WHERE e.deleted_at IS NULL`,
  );
  return rows.map((row) => {
    const endpoint = endpointFromRow(row);
    return {
      endpoint,
      organisation: {
        id: row.organisation_id,
        sector: row.sector,
        kind: row.kind,
        enabled: row.enabled,
      } as RecipientOrganisation,
    };
  });
}

/**
 * The planner's position; locks the row until commit. Made at 0 the first
 * time: planning starts no earlier than the oldest endpoint's start anyway.
 */
export async function lockDeliveryHead(db: Queryable): Promise<string> {
  await db.query(`INSERT INTO delivery_head (position) VALUES (0) ON CONFLICT (only_row) DO NOTHING`);
  const { rows } = await db.query<{ position: string }>(
    `SELECT position::text AS position FROM delivery_head FOR UPDATE`,
  );
  return rows[0]?.position ?? '0';
}

export async function setDeliveryHead(db: Queryable, position: string): Promise<void> {
  await db.query(`UPDATE delivery_head SET position = $1`, [position]);
}

export interface PlannedDelivery {
  id: string;
  endpointId: string;
  position: string | null;
  content: DeliveryContent;
}

/** Stores planned deliveries; one per endpoint and feed event, whatever is planned twice. */
export async function insertDeliveries(db: Queryable, planned: readonly PlannedDelivery[]): Promise<void> {
  if (planned.length === 0) return;
  await db.query(
    `INSERT INTO deliveries (id, endpoint_id, position, type, subject_id, content)
     SELECT d.id, d.endpoint_id, d.position, d.content->>'type', (d.content->>'subjectId')::uuid, d.content
       FROM jsonb_to_recordset($1::jsonb) AS d(id uuid, endpoint_id uuid, position bigint, content jsonb)
     ORDER BY d.position, d.endpoint_id
     ON CONFLICT (endpoint_id, position) DO NOTHING`,
    [
      JSON.stringify(
        planned.map((p) => ({
          id: p.id,
          endpoint_id: p.endpointId,
          position: p.position,
          content: p.content,
        })),
      ),
    ],
  );
}

/** The next delivery of each endpoint that has one waiting: an endpoint's deliveries go one at a time, in order. */
export interface DueDelivery {
  id: string;
  seq: string;
  type: 'warning' | 'alert' | 'test';
  content: DeliveryContent;
  attempts: number;
  createdAt: string;
  firstAttemptAt: string | null;
  nextAttemptAt: string;
  endpoint: StoredEndpoint;
  language: DeliveryLanguage;
}

export async function nextDeliveries(db: Queryable): Promise<DueDelivery[]> {
  const { rows } = await db.query<
    EndpointRow & {
      delivery_id: string;
      seq: string;
      type: DueDelivery['type'];
      content: DeliveryContent;
      attempts: number;
      delivery_created_at: string;
      first_attempt_at: string | null;
      next_attempt_at: string;
      language: DeliveryLanguage;
    }
  >(
    `SELECT DISTINCT ON (d.endpoint_id)
            d.id AS delivery_id, d.seq, d.type, d.content, d.attempts, d.created_at AS delivery_created_at,
            d.first_attempt_at, d.next_attempt_at, o.language, ${ENDPOINT_COLUMNS}
       FROM deliveries d
       JOIN delivery_endpoints e ON e.id = d.endpoint_id
       JOIN organisations o ON o.id = e.organisation_id
      WHERE d.state = 'pending' AND e.deleted_at IS NULL
      ORDER BY d.endpoint_id, d.seq`,
  );
  return rows.map((row) => ({
    id: row.delivery_id,
    seq: row.seq,
    type: row.type,
    content: row.content,
    attempts: row.attempts,
    createdAt: row.delivery_created_at,
    firstAttemptAt: row.first_attempt_at,
    nextAttemptAt: row.next_attempt_at,
    endpoint: endpointFromRow(row),
    language: row.language,
  }));
}

export interface AttemptOutcome {
  at: Date;
  statusCode: number | null;
  latencyMs: number;
  ok: boolean;
  error: string | null;
}

/**
 * Records an attempt and its consequence in one statement pair: delivered,
 * to be retried at `retryAt`, or (retryAt null after a failure) failed.
 * Only a delivery still pending changes (a deleted endpoint's is cancelled).
 */
export async function recordAttempt(
  db: Queryable,
  deliveryId: string,
  attempt: number,
  outcome: AttemptOutcome,
  retryAt: Date | null,
): Promise<void> {
  await db.query(
    `INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, latency_ms, ok, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [deliveryId, attempt, outcome.at, outcome.statusCode, outcome.latencyMs, outcome.ok, outcome.error],
  );
  const state = outcome.ok ? 'delivered' : retryAt ? 'pending' : 'failed';
  await db.query(
    `UPDATE deliveries
        SET attempts = GREATEST(attempts, $2), state = $3,
            first_attempt_at = COALESCE(first_attempt_at, $4),
            next_attempt_at = COALESCE($5, next_attempt_at),
            finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END
      WHERE id = $1 AND state = 'pending'`,
    [deliveryId, attempt, state, outcome.at, retryAt],
  );
}

/** A test message: recorded as a delivery of its own, already finished. */
export async function recordTestDelivery(
  db: Queryable,
  id: string,
  endpointId: string,
  outcome: AttemptOutcome,
): Promise<void> {
  await db.query(
    `INSERT INTO deliveries (id, endpoint_id, type, content, state, attempts, first_attempt_at, finished_at, created_at)
     VALUES ($1, $2, 'test', '{"type":"test"}', $3, 1, $4, now(), $4)`,
    [id, endpointId, outcome.ok ? 'delivered' : 'failed', outcome.at],
  );
  await recordAttempt(db, id, 1, outcome, null);
}

/** The endpoint's latest deliveries and attempts, newest first. */
export async function deliveryLog(
  db: Queryable,
  endpointId: string,
  limit: number,
): Promise<{ deliveries: DeliveryStatus[]; attempts: DeliveryAttempt[] }> {
  const deliveries = await db.query<{
    id: string;
    type: DeliveryStatus['type'];
    state: string;
    attempts: number;
    created_at: string;
    finished_at: string | null;
    next_attempt_at: string;
  }>(
    `SELECT id, type, state, attempts, created_at, finished_at, next_attempt_at
       FROM deliveries WHERE endpoint_id = $1 ORDER BY seq DESC LIMIT $2`,
    [endpointId, limit],
  );
  const attempts = await db.query<{
    delivery_id: string;
    type: DeliveryAttempt['type'];
    attempt: number;
    at: string;
    status_code: number | null;
    latency_ms: number;
    ok: boolean;
    error: string | null;
  }>(
    `SELECT a.delivery_id, d.type, a.attempt, a.at, a.status_code, a.latency_ms, a.ok, a.error
       FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
      WHERE d.endpoint_id = $1 ORDER BY a.at DESC, a.attempt DESC LIMIT $2`,
    [endpointId, limit],
  );
  return {
    deliveries: deliveries.rows.map((row) => ({
      deliveryId: row.id,
      type: row.type,
      // A cancelled delivery (its endpoint removed) was not delivered.
      state: row.state === 'cancelled' ? 'failed' : (row.state as DeliveryStatus['state']),
      attempts: row.attempts,
      createdAt: row.created_at,
      deliveredAt: row.state === 'delivered' ? row.finished_at : null,
      nextAttemptAt: row.state === 'pending' ? row.next_attempt_at : null,
    })),
    attempts: attempts.rows.map((row) => ({
      deliveryId: row.delivery_id,
      type: row.type,
      attempt: row.attempt,
      at: row.at,
      statusCode: row.status_code,
      latencyMs: row.latency_ms,
      ok: row.ok,
      error: row.error,
    })),
  };
}

/**
 * A warning's reach per organisation: the first delivery that succeeded
 * (when, by which channel), whether one is failing while none succeeded.
 */
export async function warningDeliveries(
  db: Queryable,
  warningId: string,
): Promise<Map<string, Pick<WarningReceipt, 'delivered' | 'failing'>>> {
  const { rows } = await db.query<{
    organisation_id: string;
    delivered_at: string | null;
    channel: DeliveryChannel | null;
    failing: boolean;
  }>(
    `SELECT e.organisation_id,
            (array_agg(d.finished_at ORDER BY d.finished_at) FILTER (WHERE d.state = 'delivered'))[1] AS delivered_at,
            (array_agg(e.channel ORDER BY d.finished_at) FILTER (WHERE d.state = 'delivered'))[1] AS channel,
            bool_or(d.state = 'failed' OR (d.state = 'pending' AND d.attempts > 0)) AS failing
       FROM deliveries d JOIN delivery_endpoints e ON e.id = d.endpoint_id
      WHERE d.subject_id = $1 AND d.type = 'warning'
      GROUP BY e.organisation_id`,
    [warningId],
  );
  return new Map(
    rows.map((row) => [
      row.organisation_id,
      {
        delivered: row.delivered_at && row.channel ? { at: row.delivered_at, channel: row.channel } : null,
        failing: !row.delivered_at && row.failing,
      },
    ]),
  );
}

/** Forgets finished deliveries (and their attempts) older than the retention. */
export async function pruneDeliveries(db: Queryable, retentionMs: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM deliveries WHERE state <> 'pending' AND finished_at < now() - $1 * interval '1 millisecond'`,
    [retentionMs],
  );
  return rowCount ?? 0;
}
