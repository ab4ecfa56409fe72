-- Retention and purge (issue 22): what the purge needs to find expired rows
-- cheaply and to delete them without scanning whole tables, and a record of
-- every purge pass.

-- "Is this report still held by an alert version?" and the foreign-key check
-- when a report is deleted: without this, each deleted report scans alert_versions.
CREATE INDEX alert_versions_by_cause ON alert_versions (caused_by_report_id);

-- An alert is never removed while the feed still names it: the feed's
-- readers take an alert event's record from alert_versions.
CREATE INDEX feed_events_by_alert ON feed_events (alert_id) WHERE alert_id IS NOT NULL;

-- The oldest real or exercise rows first, in the purge's (keyset) order.
CREATE INDEX alerts_by_age ON alerts (exercise, updated_at, id);
CREATE INDEX warnings_by_age ON warnings (exercise, published_at);
CREATE INDEX reports_by_age ON reports (exercise, received_at, id);
CREATE INDEX exercise_runs_by_end ON exercise_runs (ended_at) WHERE state IN ('completed', 'aborted');

-- Ledger rows whose report never reached the store are removed by age.
CREATE INDEX report_submissions_by_age ON report_submissions (received_at);

-- One row per class and purge pass. A pass adds to its row in the
-- transaction of every batch it deletes, so the row always says what was
-- removed, even when the pass stops halfway; the audit entry is written (and
-- audited_at set) in one transaction at the end of the class, or by the next
-- pass for a row a crash left unaudited.
CREATE TABLE retention_runs (
  id bigserial PRIMARY KEY,
  class text NOT NULL CHECK (class IN ('reports', 'alerts', 'exercises', 'feed-events', 'audit')),
  -- The setting the pass ran with, in milliseconds, and the cutoff it derived.
  keep_ms bigint NOT NULL,
  cutoff timestamptz NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  purged bigint NOT NULL DEFAULT 0,
  -- The time range of what was removed (each class's own time: received, closed, ended, sequenced).
  oldest timestamptz,
  newest timestamptz,
  -- Rows of each table removed, for the audit entry's details.
  tables jsonb NOT NULL DEFAULT '{}',
  audited_at timestamptz
);
CREATE INDEX retention_runs_by_class ON retention_runs (class, id DESC);
CREATE INDEX retention_runs_unaudited ON retention_runs (id) WHERE audited_at IS NULL;
