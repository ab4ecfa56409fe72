-- The correlation engine: canonical indicators, the sightings the rules read
-- within a window, indicators found too common, the GSOC watchlist and local
-- exclusions (warning-list entries analysts add).

-- As written stays in value; normalized_value is now the canonical value, and
-- canonical_type its type (ipv4 for a mapped IPv6 address). Null canonical_type:
-- the value is not an indicator of its type and never correlates.
ALTER TABLE report_indicators ADD COLUMN canonical_type text;
UPDATE report_indicators SET canonical_type = type;

-- One row per (report, canonical observable), written or derived (a URL's host).
-- The rules read only the rows of one observable within a window of a
-- detection time: an index range, whatever the size of the table, and rows
-- outside every window are never read again (nothing to sweep).
CREATE TABLE sightings (
  report_id uuid NOT NULL REFERENCES reports (id),
  type text NOT NULL,
  value text NOT NULL,
  exercise boolean NOT NULL,
  detected_at timestamptz NOT NULL,
  -- False when only derived: the report never wrote it itself.
  written boolean NOT NULL,
  -- The report's canonical URLs whose host this is.
  host_of text[] NOT NULL DEFAULT '{}',
  -- The warning list or local exclusion that keeps it out of correlation.
  suppressed_by text,
  PRIMARY KEY (report_id, type, value)
);
CREATE INDEX sightings_near ON sightings (exercise, type, value, detected_at) WHERE suppressed_by IS NULL;

-- Reports already stored correlate with new ones: their normalised values become sightings.
INSERT INTO sightings (report_id, type, value, exercise, detected_at, written)
SELECT DISTINCT ri.report_id, ri.type, ri.normalized_value, r.exercise, r.detected_at, true
  FROM report_indicators ri JOIN reports r ON r.id = ri.report_id;

-- The sector-surge rule reads one sector's reports of one category within a period.
CREATE INDEX reports_by_sector_category ON reports (sector, category, exercise, detected_at);

-- Indicators once found over the cap, kept even where no alert existed yet, so
-- an alert raised later is born too common whatever order reports came in.
CREATE TABLE too_common_indicators (
  exercise boolean NOT NULL,
  type text NOT NULL,
  value text NOT NULL,
  since timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (exercise, type, value)
);

-- The GSOC watchlist. Removed entries are kept (alerts and the audit log name them).
CREATE TABLE watchlist_entries (
  id uuid PRIMARY KEY,
  type text NOT NULL,
  value text NOT NULL,
  canonical_type text NOT NULL,
  canonical text NOT NULL,
  note text NOT NULL,
  expires_at timestamptz,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  removed_by text,
  removed_at timestamptz,
  -- Set once the correlator has matched the reports stored before the entry.
  backfilled_at timestamptz
);
CREATE INDEX watchlist_by_indicator ON watchlist_entries (canonical_type, canonical);
CREATE INDEX watchlist_to_backfill ON watchlist_entries (created_at) WHERE backfilled_at IS NULL;

-- Local warning-list entries: an exact canonical value, or a network for IP types.
CREATE TABLE exclusions (
  id uuid PRIMARY KEY,
  type text NOT NULL,
  canonical text,
  network cidr,
  note text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  removed_by text,
  removed_at timestamptz,
  CHECK ((canonical IS NULL) <> (network IS NULL))
);
CREATE INDEX exclusions_by_value ON exclusions (type, canonical) WHERE canonical IS NOT NULL;
CREATE INDEX exclusions_by_network ON exclusions USING gist (network inet_ops) WHERE network IS NOT NULL;
