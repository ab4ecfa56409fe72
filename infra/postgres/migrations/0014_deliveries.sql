-- Warnings reach people who are not watching (issue 24): delivery endpoints
-- per organisation (a signed webhook or an e-mail list), one row per event
-- to deliver to an endpoint, and every attempt made. The gateway plans
-- deliveries from the feed and sends them; what is here is all it needs to
-- go on after a restart without losing or repeating more than at-least-once.

-- E-mail is written in the organisation's language.
ALTER TABLE organisations
  ADD COLUMN language text NOT NULL DEFAULT 'ja' CHECK (language IN ('ja', 'en'));

CREATE TABLE delivery_endpoints (
  id uuid PRIMARY KEY,
  organisation_id text NOT NULL REFERENCES organisations (id),
  channel text NOT NULL CHECK (channel IN ('webhook', 'email')),
  url text,
  -- The HMAC key requests are signed with; shown to the creator once.
  secret text,
  addresses text[],
  send_warnings boolean NOT NULL,
  -- NULL: no alerts.
  alerts_min_severity text CHECK (alerts_min_severity IN ('low', 'medium', 'high', 'critical')),
  send_exercise boolean NOT NULL,
  -- The feed's head when the endpoint was made: it is sent what comes after.
  start_position bigint NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  deleted_by text,
  CHECK ((channel = 'webhook') = (url IS NOT NULL AND secret IS NOT NULL)),
  CHECK ((channel = 'email') = (addresses IS NOT NULL))
);
CREATE INDEX delivery_endpoints_live ON delivery_endpoints (organisation_id) WHERE deleted_at IS NULL;

-- How far deliveries have been planned from the feed: one row, locked while planning.
CREATE TABLE delivery_head (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  position bigint NOT NULL
);

-- One event for one endpoint. id is the delivery id receivers deduplicate on:
-- the same on every attempt. An endpoint's deliveries go in seq order, each
-- only once the one before it was delivered or given up.
CREATE TABLE deliveries (
  id uuid PRIMARY KEY,
  endpoint_id uuid NOT NULL REFERENCES delivery_endpoints (id),
  seq bigserial NOT NULL,
  -- The feed event it came from; NULL for a test message.
  position bigint,
  type text NOT NULL CHECK (type IN ('warning', 'alert', 'test')),
  -- The warning's or alert's id.
  subject_id uuid,
  -- The organisation's view of the event (DeliveryContent), fixed when planned.
  content jsonb NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  first_attempt_at timestamptz,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (endpoint_id, position)
);
CREATE INDEX deliveries_pending ON deliveries (endpoint_id, seq) WHERE state = 'pending';
CREATE INDEX deliveries_by_subject ON deliveries (subject_id);
CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id, seq);

CREATE TABLE delivery_attempts (
  delivery_id uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  at timestamptz NOT NULL,
  -- The HTTP status or SMTP reply code; NULL when no answer came.
  status_code integer,
  latency_ms integer NOT NULL,
  ok boolean NOT NULL,
  error text,
  PRIMARY KEY (delivery_id, attempt)
);
