-- Partner feeds (issue 21, item 7): TAXII 2.1 collections and MISP feeds the
-- hub pulls on a schedule and imports as the partner organisation's reports,
-- through the same path as a push (ingest's import and submission batcher).
--
-- Administrators register them on the gateway (`/v1/feeds`); ingest, the
-- only service that may write the reports topic, polls them. So the gateway
-- writes partner_feeds and reads the poll state; ingest reads partner_feeds
-- and writes the state.
CREATE TABLE partner_feeds (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('taxii', 'misp')),
  name text NOT NULL,
  -- TAXII: the collection's URL (…/collections/<id>/); MISP: the feed's directory (where manifest.json is).
  url text NOT NULL,
  -- Whose reports the pulled data becomes. No ON DELETE: organisations are disabled, never deleted.
  organisation_id text NOT NULL REFERENCES organisations (id),
  -- The TLP declared for what the partner's data leaves unmarked.
  default_tlp text NOT NULL,
  poll_interval_seconds integer NOT NULL CHECK (poll_interval_seconds > 0),
  -- Sealed with a key derived from the hub secret (AES-256-GCM), so a dump of
  -- the database does not carry partners' credentials; null: none. Never answered.
  credentials text,
  credentials_kind text CHECK (credentials_kind IN ('bearer', 'basic')),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- `renkei feed sync ID`: a poll is due when this is later than the state's last_sync_served_at.
  sync_requested_at timestamptz
);

-- Where a feed's polling stands. One row per feed, written by the poller only.
CREATE TABLE partner_feed_state (
  feed_id uuid PRIMARY KEY REFERENCES partner_feeds (id) ON DELETE CASCADE,
  -- TAXII: {"addedAfter": "<the last date_added imported>"}; MISP: {"events": {"<uuid>": <timestamp>}}.
  checkpoint jsonb NOT NULL DEFAULT '{}',
  last_poll_at timestamptz,
  last_success_at timestamptz,
  next_poll_at timestamptz NOT NULL DEFAULT now(),
  consecutive_failures integer NOT NULL DEFAULT 0,
  last_error text,
  last_sync_served_at timestamptz,
  -- Totals since the feed was added: objects or events read, reports Kafka accepted.
  items_read bigint NOT NULL DEFAULT 0,
  reports_accepted bigint NOT NULL DEFAULT 0
);

-- Grants (see 0017).
DO $$
DECLARE
  prefix text := coalesce(nullif(current_setting('renkei.role_prefix', true), ''), 'renkei');
BEGIN
  EXECUTE format('GRANT SELECT, INSERT, DELETE, UPDATE (sync_requested_at) ON partner_feeds TO %I', prefix || '_gateway');
  EXECUTE format('GRANT SELECT ON partner_feed_state TO %I', prefix || '_gateway');
  EXECUTE format('GRANT SELECT ON partner_feeds TO %I', prefix || '_ingest');
  EXECUTE format('GRANT SELECT, INSERT, UPDATE ON partner_feed_state TO %I', prefix || '_ingest');
END;
$$;
