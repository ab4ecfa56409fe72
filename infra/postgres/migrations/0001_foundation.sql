-- Foundation schema: the ingest ledger, reports and their indicators, alerts
-- and the alert outbox. Forward-only: later changes come as new files.

-- Ingest's ledger, one row per report id a client has used. It makes a retried
-- POST idempotent and lets GET answer before the correlator has caught up.
CREATE TABLE report_submissions (
  id uuid PRIMARY KEY,
  organisation_id text NOT NULL,
  sector text NOT NULL,
  submitted_by text NOT NULL,
  content_sha256 text NOT NULL,
  envelope jsonb NOT NULL,
  -- pending: written before the Kafka send; accepted: Kafka acknowledged it.
  state text NOT NULL CHECK (state IN ('pending', 'accepted')),
  received_at timestamptz NOT NULL,
  accepted_at timestamptz
);

-- Reports as the correlator stored them, exactly once per id.
CREATE TABLE reports (
  id uuid PRIMARY KEY,
  organisation_id text NOT NULL,
  sector text NOT NULL,
  submitted_by text NOT NULL,
  title text NOT NULL,
  description text,
  category text NOT NULL,
  severity text NOT NULL,
  tlp text NOT NULL,
  detected_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  exercise boolean NOT NULL,
  content_sha256 text NOT NULL,
  -- Where the report sits in Kafka, to replay or trace it.
  kafka_topic text NOT NULL,
  kafka_partition integer NOT NULL,
  kafka_offset bigint NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_by_organisation ON reports (organisation_id, received_at DESC);

CREATE TABLE report_indicators (
  report_id uuid NOT NULL REFERENCES reports (id),
  position integer NOT NULL,
  type text NOT NULL,
  -- As reported, for people; normalized_value is what correlation matches on.
  value text NOT NULL,
  normalized_value text NOT NULL,
  role text,
  PRIMARY KEY (report_id, position)
);
CREATE INDEX report_indicators_by_value ON report_indicators (type, normalized_value);

-- Positions in the alert feed: one total order over every alert version.
CREATE SEQUENCE alert_feed_cursor AS bigint;

-- The latest version of each alert.
CREATE TABLE alerts (
  id uuid PRIMARY KEY,
  -- What makes two raisings the same alert (rule, exercise flag, indicator).
  correlation_key text NOT NULL UNIQUE,
  kind text NOT NULL,
  version integer NOT NULL,
  exercise boolean NOT NULL,
  tlp text NOT NULL,
  severity text NOT NULL,
  cursor bigint NOT NULL,
  record jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX alerts_by_cursor ON alerts (cursor DESC);

-- Every version of every alert, and the outbox of the alerts topic: a version
-- is written in the transaction that stores its report, and published after.
CREATE TABLE alert_versions (
  cursor bigint PRIMARY KEY,
  alert_id uuid NOT NULL REFERENCES alerts (id),
  version integer NOT NULL,
  record jsonb NOT NULL,
  caused_by_report_id uuid NOT NULL REFERENCES reports (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  UNIQUE (alert_id, version)
);
CREATE INDEX alert_versions_unpublished ON alert_versions (cursor) WHERE published_at IS NULL;
