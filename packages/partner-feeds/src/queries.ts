import type { Queryable } from '@renkei/db';
import type { PartnerFeed, PartnerFeedKind, Tlp } from '@renkei/schema';
import { feedCheckpointSchema, type FeedCheckpoint } from './poll.js';

/** Woken by `renkei feed sync` and by a new feed: the poller LISTENs on it while it leads. */
export const PARTNER_FEEDS_CHANNEL = 'renkei_partner_feeds';

interface FeedRow {
  id: string;
  kind: PartnerFeedKind;
  name: string;
  url: string;
  organisation_id: string;
  default_tlp: Tlp;
  poll_interval_seconds: number;
  credentials: string | null;
  credentials_kind: 'bearer' | 'basic' | null;
  created_by: string;
  created_at: string;
  sync_requested_at: string | null;
  checkpoint: unknown;
  last_poll_at: string | null;
  last_success_at: string | null;
  next_poll_at: string | null;
  consecutive_failures: number | null;
  last_error: string | null;
  last_sync_served_at: string | null;
  items_read: string | null;
  reports_accepted: string | null;
  lag_seconds: number;
}

const COLUMNS = `f.id, f.kind, f.name, f.url, f.organisation_id, f.default_tlp, f.poll_interval_seconds,
  f.credentials, f.credentials_kind, f.created_by, f.created_at, f.sync_requested_at,
  s.checkpoint, s.last_poll_at, s.last_success_at, s.next_poll_at, s.consecutive_failures, s.last_error,
  s.last_sync_served_at, s.items_read::text AS items_read, s.reports_accepted::text AS reports_accepted,
  floor(extract(epoch FROM now() - coalesce(s.last_success_at, f.created_at)))::int AS lag_seconds`;

const FROM = 'partner_feeds f LEFT JOIN partner_feed_state s ON s.feed_id = f.id';

/** A feed as the poller uses it: with its sealed credentials and checkpoint. */
export interface StoredFeed {
  view: PartnerFeed;
  sealedCredentials: string | null;
  checkpoint: FeedCheckpoint;
  syncRequestedAt: string | null;
  lastSyncServedAt: string | null;
  nextPollAt: string | null;
  consecutiveFailures: number;
}

function checkpointOf(value: unknown): FeedCheckpoint {
  const parsed = feedCheckpointSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : {};
}

function fromRow(row: FeedRow): StoredFeed {
  const checkpoint = checkpointOf(row.checkpoint);
  const syncPending =
    row.sync_requested_at !== null &&
    (row.last_sync_served_at === null ||
      Date.parse(row.sync_requested_at) > Date.parse(row.last_sync_served_at));
  return {
    view: {
      id: row.id,
      kind: row.kind,
      name: row.name,
      url: row.url,
      organisationId: row.organisation_id,
      defaultTlp: row.default_tlp,
      pollIntervalSeconds: row.poll_interval_seconds,
      // That they are set and of which kind; the value never leaves the hub.
      credentials: row.credentials_kind ? { kind: row.credentials_kind, set: true } : null,
      createdBy: row.created_by,
      createdAt: row.created_at,
      status: {
        lastPollAt: row.last_poll_at,
        lastSuccessAt: row.last_success_at,
        nextPollAt: row.next_poll_at,
        lagSeconds: Math.max(0, row.lag_seconds),
        consecutiveFailures: row.consecutive_failures ?? 0,
        lastError: row.last_error,
        checkpoint: {
          addedAfter: checkpoint.addedAfter ?? null,
          events: Object.keys(checkpoint.events ?? {}).length,
        },
        itemsRead: Number(row.items_read ?? 0),
        reportsAccepted: Number(row.reports_accepted ?? 0),
        syncPending,
      },
    },
    sealedCredentials: row.credentials,
    checkpoint,
    syncRequestedAt: row.sync_requested_at,
    lastSyncServedAt: row.last_sync_served_at,
    nextPollAt: row.next_poll_at,
    consecutiveFailures: row.consecutive_failures ?? 0,
  };
}

export interface NewFeed {
  id: string;
  kind: PartnerFeedKind;
  name: string;
  url: string;
  organisationId: string;
  defaultTlp: Tlp;
  pollIntervalSeconds: number;
  sealedCredentials: string | null;
  credentialsKind: 'bearer' | 'basic' | null;
  createdBy: string;
}

export async function insertFeed(db: Queryable, feed: NewFeed): Promise<void> {
  await db.query(
    `INSERT INTO partner_feeds (id, kind, name, url, organisation_id, default_tlp, poll_interval_seconds,
       credentials, credentials_kind, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      feed.id,
      feed.kind,
      feed.name,
      feed.url,
      feed.organisationId,
      feed.defaultTlp,
      feed.pollIntervalSeconds,
      feed.sealedCredentials,
      feed.credentialsKind,
      feed.createdBy,
    ],
  );
  await db.query(`SELECT pg_notify($1, $2)`, [PARTNER_FEEDS_CHANNEL, feed.id]);
}

export async function listFeeds(db: Queryable): Promise<StoredFeed[]> {
  const { rows } = await db.query<FeedRow>(`SELECT ${COLUMNS} FROM ${FROM} ORDER BY f.created_at, f.id`);
  return rows.map(fromRow);
}

export async function findFeed(db: Queryable, id: string): Promise<StoredFeed | undefined> {
  const { rows } = await db.query<FeedRow>(`SELECT ${COLUMNS} FROM ${FROM} WHERE f.id = $1`, [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** Removes a feed and its state (ON DELETE CASCADE); what it imported stays. False when there was none. */
export async function deleteFeed(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM partner_feeds WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/** Asks for a poll now and wakes the poller; the time asked, or undefined for an unknown feed. */
export async function requestSync(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ requested_at: string }>(
    `UPDATE partner_feeds SET sync_requested_at = clock_timestamp() WHERE id = $1
     RETURNING sync_requested_at AS requested_at`,
    [id],
  );
  if (!rows[0]) return undefined;
  await db.query(`SELECT pg_notify($1, $2)`, [PARTNER_FEEDS_CHANNEL, id]);
  return rows[0].requested_at;
}

export interface PollRecord {
  feedId: string;
  /** Null when the poll failed before it read anything worth keeping: the checkpoint stays. */
  checkpoint: FeedCheckpoint | null;
  polledAt: Date;
  succeeded: boolean;
  nextPollAt: Date;
  consecutiveFailures: number;
  lastError: string | null;
  /** The sync request this poll served, if it was one. */
  syncServed: string | null;
  itemsRead: number;
  reportsAccepted: number;
}

/** Records a poll's end: the checkpoint, the schedule and the totals. Nothing when the feed was removed meanwhile. */
export async function recordPoll(db: Queryable, poll: PollRecord): Promise<void> {
  await db.query(
    `INSERT INTO partner_feed_state AS s (feed_id, checkpoint, last_poll_at, last_success_at, next_poll_at,
       consecutive_failures, last_error, last_sync_served_at, items_read, reports_accepted)
     SELECT f.id, coalesce($2::jsonb, '{}'), $3, CASE WHEN $4 THEN $3::timestamptz END, $5, $6, $7, $8, $9, $10
       FROM partner_feeds f WHERE f.id = $1
     ON CONFLICT (feed_id) DO UPDATE SET
       checkpoint = coalesce($2::jsonb, s.checkpoint),
       last_poll_at = $3,
       last_success_at = CASE WHEN $4 THEN $3::timestamptz ELSE s.last_success_at END,
       next_poll_at = $5,
       consecutive_failures = $6,
       last_error = $7,
       last_sync_served_at = greatest(s.last_sync_served_at, $8::timestamptz),
       items_read = s.items_read + $9,
       reports_accepted = s.reports_accepted + $10`,
    [
      poll.feedId,
      poll.checkpoint === null ? null : JSON.stringify(poll.checkpoint),
      poll.polledAt,
      poll.succeeded,
      poll.nextPollAt,
      poll.consecutiveFailures,
      poll.lastError,
      poll.syncServed,
      poll.itemsRead,
      poll.reportsAccepted,
    ],
  );
}
