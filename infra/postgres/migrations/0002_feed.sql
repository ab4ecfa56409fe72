-- The feed: every event the live stream carries, in one total order that
-- commits in order. Writers append to feed_outbox inside their own
-- transaction; one sequencer at a time (serialised by the feed_head row lock)
-- moves outbox rows to feed_events with consecutive positions, so a position
-- is visible only once every smaller one is. A sequence cannot promise that:
-- its values commit out of order.

CREATE TABLE feed_outbox (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  payload jsonb NOT NULL,
  -- Set for alert versions: the feed event updates alerts.cursor when sequenced.
  alert_id uuid,
  alert_version integer,
  -- The report that caused the event, carried into Kafka headers for tracing.
  report_id uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE feed_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  position bigint NOT NULL
);

CREATE TABLE feed_events (
  position bigint PRIMARY KEY,
  kind text NOT NULL,
  payload jsonb NOT NULL,
  alert_id uuid,
  alert_version integer,
  report_id uuid,
  sequenced_at timestamptz NOT NULL DEFAULT now(),
  -- Set once the relay has the event on Kafka; retention only removes published events.
  published_at timestamptz
);
CREATE INDEX feed_events_unpublished ON feed_events (position) WHERE published_at IS NULL;
CREATE INDEX feed_events_by_time ON feed_events (sequenced_at);

-- Alert versions get their feed position when sequenced, not when written.
ALTER TABLE alert_versions DROP CONSTRAINT alert_versions_pkey;
ALTER TABLE alert_versions DROP CONSTRAINT alert_versions_alert_id_version_key;
ALTER TABLE alert_versions ADD PRIMARY KEY (alert_id, version);
ALTER TABLE alert_versions RENAME COLUMN cursor TO position;
ALTER TABLE alert_versions ALTER COLUMN position DROP NOT NULL;
ALTER TABLE alert_versions ADD CONSTRAINT alert_versions_position_key UNIQUE (position);
-- "cursor" is the word on the wire; inside, it is the alert's feed position.
ALTER TABLE alerts RENAME COLUMN cursor TO position;
ALTER TABLE alerts ALTER COLUMN position DROP NOT NULL;
ALTER INDEX alerts_by_cursor RENAME TO alerts_by_position;

-- What the foundation had already published keeps its cursor as its position;
-- what it had not is queued again, in its old order, so an upgrade loses nothing.
INSERT INTO feed_events (position, kind, payload, alert_id, alert_version, report_id, published_at)
SELECT position, 'alert', record - 'cursor', alert_id, version, caused_by_report_id, published_at
  FROM alert_versions WHERE published_at IS NOT NULL;
INSERT INTO feed_head (position) SELECT coalesce(max(position), 0) FROM feed_events;
INSERT INTO feed_outbox (kind, payload, alert_id, alert_version, report_id)
SELECT 'alert', record - 'cursor', alert_id, version, caused_by_report_id
  FROM alert_versions WHERE published_at IS NULL ORDER BY position;
UPDATE alert_versions SET position = NULL WHERE published_at IS NULL;
UPDATE alerts a SET position = v.position
  FROM alert_versions v WHERE v.alert_id = a.id AND v.version = a.version;
UPDATE alerts SET record = record - 'cursor';
UPDATE alert_versions SET record = record - 'cursor';

DROP INDEX alert_versions_unpublished;
ALTER TABLE alert_versions DROP COLUMN published_at;
DROP SEQUENCE alert_feed_cursor;
