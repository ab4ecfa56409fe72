import type { PoolClient, Queryable } from '@renkei/db';
import {
  FEED_EVENT_SCHEMA,
  feedEventSchema,
  type FeedEvent,
  type FeedEventKind,
  type FeedPayload,
} from '@renkei/schema';

/** PostgreSQL channels: an outbox row waits to be sequenced; the feed head moved. */
export const OUTBOX_CHANNEL = 'renkei_feed_outbox';
export const FEED_CHANNEL = 'renkei_feed';

/** An event to append to the feed, in the writer's own transaction. */
export type FeedEntry = {
  [Kind in FeedEventKind]: {
    kind: Kind;
    payload: FeedPayload<Kind>;
    /** For alert versions: lets the sequencer record the alert's feed position. */
    alert?: { id: string; version: number };
    /** The report that caused the event, for tracing across services. */
    reportId?: string;
  };
}[FeedEventKind];

/**
 * Queues events for the feed. Call it inside the transaction that makes them
 * true: they are sequenced only once it commits, and never if it rolls back.
 * The notification, too, is delivered at commit.
 */
export async function appendToFeed(db: Queryable, entries: readonly FeedEntry[]): Promise<void> {
  if (entries.length === 0) return;
  // Payloads travel as one JSON array: a jsonb[] literal would escape every quote of every payload.
  await db.query(
    `INSERT INTO feed_outbox (kind, payload, alert_id, alert_version, report_id, created_at)
     SELECT *, clock_timestamp() FROM ROWS FROM (unnest($1::text[]), jsonb_array_elements($2::jsonb), unnest($3::uuid[]),
                              unnest($4::integer[]), unnest($5::uuid[]))`,
    [
      entries.map((entry) => entry.kind),
      JSON.stringify(entries.map((entry) => entry.payload)),
      entries.map((entry) => entry.alert?.id ?? null),
      entries.map((entry) => entry.alert?.version ?? null),
      entries.map((entry) => entry.reportId ?? null),
    ],
  );
  await db.query(`SELECT pg_notify($1, '')`, [OUTBOX_CHANNEL]);
}

/**
 * Queues alert versions for the feed that the caller has just written to
 * `alert_versions`, in the same transaction, in version order. Their records
 * are not copied: the feed's readers take them from `alert_versions`, so a
 * record (a surge's reaches a hundred kilobytes) is written twice, not four
 * times (alerts, alert_versions, feed_outbox, feed_events).
 */
export async function appendAlertVersionsToFeed(
  db: Queryable,
  versions: readonly { alertId: string; version: number; reportId: string | null }[],
): Promise<void> {
  if (versions.length === 0) return;
  await db.query(
    `INSERT INTO feed_outbox (kind, payload, alert_id, alert_version, report_id, created_at)
     SELECT 'alert', NULL, *, clock_timestamp() FROM unnest($1::uuid[], $2::integer[], $3::uuid[])`,
    [versions.map((v) => v.alertId), versions.map((v) => v.version), versions.map((v) => v.reportId)],
  );
  await db.query(`SELECT pg_notify($1, '')`, [OUTBOX_CHANNEL]);
}

/**
 * Moves up to `limit` outbox rows into the feed with the next consecutive
 * positions. The `feed_head` row lock is held until commit, so sequencing
 * transactions run one at a time and commit in position order: when a
 * position is visible, every smaller one already is.
 */
export async function sequenceOutbox(
  db: PoolClient,
  limit: number,
  /** Told, for each event moved, how long (seconds) its outbox row waited to be sequenced. */
  onWaited?: (seconds: readonly number[]) => void,
): Promise<number> {
  const head = await db.query<{ position: string }>(
    `SELECT position FROM feed_head WHERE singleton FOR UPDATE`,
  );
  const from = head.rows[0]!.position;
  // The alerts whose position this round sets, locked in id order as the
  // correlator locks them (`FOR UPDATE … ORDER BY id`): updated in whatever
  // order the join gives, the two would deadlock and one would wait out
  // PostgreSQL's deadlock_timeout before failing.
  await db.query(
    `SELECT a.id FROM alerts a
      WHERE a.id IN (SELECT alert_id FROM feed_outbox WHERE id IN (SELECT id FROM feed_outbox ORDER BY id LIMIT $1))
      ORDER BY a.id
      FOR UPDATE`,
    [limit],
  );
  // A new statement takes a new snapshot: rows a sequencer we waited for has
  // just moved are gone from the outbox by now.
  const moved = await db.query<{ last: string | null; count: string; waited: number[] | null }>(
    `WITH taken AS (
       DELETE FROM feed_outbox
        WHERE id IN (SELECT id FROM feed_outbox ORDER BY id LIMIT $2)
        RETURNING id, kind, payload, alert_id, alert_version, report_id, created_at
     ), numbered AS (
       SELECT $1::bigint + row_number() OVER (ORDER BY id) AS position, id, kind, payload, alert_id,
              alert_version, report_id FROM taken
     ), inserted AS (
       INSERT INTO feed_events (position, kind, payload, alert_id, alert_version, report_id)
       SELECT position, kind, payload, alert_id, alert_version, report_id FROM numbered
       RETURNING position, alert_id, alert_version
     ), versions AS (
       UPDATE alert_versions v SET position = i.position
         FROM inserted i WHERE v.alert_id = i.alert_id AND v.version = i.alert_version
     ), latest AS (
       UPDATE alerts a SET position = i.position
         FROM inserted i WHERE a.id = i.alert_id AND a.version = i.alert_version
     )
     SELECT max(position)::text AS last, count(*)::text AS count,
            (SELECT array_agg(extract(epoch FROM clock_timestamp() - created_at))::float8[] FROM taken) AS waited
       FROM inserted`,
    [from, limit],
  );
  const { last, count, waited } = moved.rows[0]!;
  if (last === null) return 0;
  if (waited) onWaited?.(waited);
  await db.query(`UPDATE feed_head SET position = $1 WHERE singleton`, [last]);
  await db.query(`SELECT pg_notify($1, $2)`, [FEED_CHANNEL, last]);
  return Number(count);
}

/** Feed events with the records of their alert versions, which the feed does not copy (`appendAlertVersionsToFeed`). */
const FEED_WITH_ALERT_RECORDS = `feed_events f
  LEFT JOIN alert_versions v ON f.payload IS NULL AND v.alert_id = f.alert_id AND v.version = f.alert_version`;
const PAYLOAD = `coalesce(f.payload, v.record)`;

interface FeedRow {
  position: string;
  kind: string;
  payload: unknown;
  report_id: string | null;
  sequenced_at: string;
}

function toEvent(row: FeedRow): FeedEvent {
  return feedEventSchema.parse({
    schema: FEED_EVENT_SCHEMA,
    position: row.position,
    kind: row.kind,
    payload: row.payload,
    sequencedAt: row.sequenced_at,
  });
}

/** A sequenced event as the relay sends it: already JSON, never parsed and written again. */
export interface UnpublishedEvent {
  position: string;
  kind: FeedEventKind;
  reportId: string | null;
  /** For an alert version: what its message on the alerts topic is keyed and headed by. */
  alert: { id: string; version: number; schema: string } | null;
  /** The feed event, as JSON. */
  eventJson: string;
  /** Its payload alone, as JSON (an alert version's message on the alerts topic). */
  payloadJson: string;
  /** When it was sequenced (ISO). */
  sequencedAt: string;
}

/**
 * Events after `after`, oldest first, at most `limit`, and none past `upTo`
 * when given. Positions are dense, so a first event past `after + 1` (or none
 * while `upTo` is further) means retention has removed what was between.
 */
export async function readFeed(
  db: Queryable,
  after: string,
  limit: number,
  upTo?: string,
): Promise<FeedEvent[]> {
  const { rows } = await db.query<FeedRow>(
    `SELECT f.position, f.kind, ${PAYLOAD} AS payload, f.report_id, f.sequenced_at
       FROM ${FEED_WITH_ALERT_RECORDS}
      WHERE f.position > $1 AND ($3::bigint IS NULL OR f.position <= $3::bigint)
      ORDER BY f.position LIMIT $2`,
    [after, limit, upTo ?? null],
  );
  return rows.map(toEvent);
}

/**
 * Sequenced events not yet on Kafka, oldest first. Their payloads come as
 * text and go out as text: they were validated when written, consumers
 * validate what they receive, and parsing, validating and serialising
 * alert records of a hundred kilobytes again in between was most of the
 * relay's work. The JSON is PostgreSQL's, with spaces after separators.
 */
export async function readUnpublished(db: Queryable, limit: number): Promise<UnpublishedEvent[]> {
  const { rows } = await db.query<{
    position: string;
    kind: FeedEventKind;
    payload: string;
    report_id: string | null;
    sequenced_at: string;
    alert_id: string | null;
    alert_version: number | null;
    payload_schema: string | null;
  }>(
    `SELECT f.position, f.kind, ${PAYLOAD}::text AS payload, f.report_id, f.sequenced_at, f.alert_id,
            f.alert_version, ${PAYLOAD}->>'schema' AS payload_schema
       FROM ${FEED_WITH_ALERT_RECORDS}
      WHERE f.published_at IS NULL ORDER BY f.position LIMIT $1`,
    [limit],
  );
  return rows.map((row) => ({
    position: row.position,
    kind: row.kind,
    reportId: row.report_id,
    alert:
      row.kind === 'alert' && row.alert_id !== null && row.alert_version !== null
        ? { id: row.alert_id, version: row.alert_version, schema: row.payload_schema ?? '' }
        : null,
    eventJson: `{"schema":${JSON.stringify(FEED_EVENT_SCHEMA)},"position":${JSON.stringify(row.position)},"kind":${JSON.stringify(row.kind)},"payload":${row.payload},"sequencedAt":${JSON.stringify(row.sequenced_at)}}`,
    payloadJson: row.payload,
    sequencedAt: row.sequenced_at,
  }));
}

export async function markPublished(db: Queryable, positions: readonly string[]): Promise<void> {
  await db.query(`UPDATE feed_events SET published_at = now() WHERE position = ANY($1::bigint[])`, [
    positions,
  ]);
}

export interface FeedBounds {
  /** The newest position; "0" while the feed is empty. */
  head: string;
  /** The oldest position still kept; resuming from before it misses events. */
  oldest: string | null;
}

export async function feedBounds(db: Queryable): Promise<FeedBounds> {
  const { rows } = await db.query<{ head: string; oldest: string | null }>(
    `SELECT (SELECT position FROM feed_head WHERE singleton)::text AS head,
            (SELECT min(position) FROM feed_events)::text AS oldest`,
  );
  return rows[0]!;
}

/**
 * Forgets published events older than the retention; returns how many. What
 * is removed is always a prefix of the feed (every position up to a bound),
 * never a hole in the middle: sequencing transactions take their `now()` when
 * they begin, so times are not strictly in position order, and a reader
 * resuming by cursor must see one gap at the start or none.
 */
export async function pruneFeed(db: Queryable, retentionMs: number): Promise<number> {
  const result = await db.query(
    `WITH bound AS (
       SELECT max(position) AS position FROM feed_events
        WHERE sequenced_at < now() - make_interval(secs => $1::double precision / 1000)
          AND position < coalesce(
            (SELECT min(position) FROM feed_events WHERE published_at IS NULL),
            9223372036854775807)
     )
     DELETE FROM feed_events WHERE position <= (SELECT position FROM bound)`,
    [retentionMs],
  );
  return result.rowCount ?? 0;
}
