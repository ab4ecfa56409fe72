-- Search and bulk lookup (issue 18): "have we seen this?" over indicators,
-- reports, alerts and warnings.

-- Free text in Japanese and English. The default text-search parser splits on
-- spaces and punctuation, which Japanese does not have, so 標的型 would never
-- find 標的型攻撃メール; trigram indexes (pg_trgm, a contrib module shipped
-- with PostgreSQL) serve `ILIKE '%…%'` for any substring of three characters
-- or more, in any script, with no dictionary to keep. docs/SEARCH.md
-- ("Free text in Japanese and English") says why and what shorter text does.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX reports_title_trgm ON reports USING gin (title gin_trgm_ops);
CREATE INDEX reports_description_trgm ON reports USING gin (description gin_trgm_ops);
CREATE INDEX warnings_title_trgm ON warnings USING gin ((record ->> 'title') gin_trgm_ops);
CREATE INDEX warnings_body_trgm ON warnings USING gin ((record ->> 'body') gin_trgm_ops);
CREATE INDEX alerts_title_trgm ON alerts USING gin ((record ->> 'title') gin_trgm_ops);

-- Text too short for a trigram is matched against the newest reports only.
CREATE INDEX reports_by_received ON reports (received_at DESC, id);

-- Every sighting of one value, suppressed ones too (sightings_near holds only
-- the unsuppressed ones, and leads with exercise): a lookup of 10^4 values is
-- 10^4 index ranges, whatever the size of the table.
CREATE INDEX sightings_by_value ON sightings (type, value, report_id);

-- Addresses within a network: `value::inet <<= network` on this expression.
CREATE INDEX sightings_by_address ON sightings USING gist ((value::inet) inet_ops)
  WHERE type IN ('ipv4', 'ipv6');

-- The canonical indicators an alert or warning record lists, as "type:value"
-- (indicatorKey), for finding the alerts and warnings of a value without
-- reading them all. IMMUTABLE holds: it reads only its argument.
CREATE FUNCTION record_indicator_keys(indicators jsonb) RETURNS text[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT coalesce(array_agg((i ->> 'type') || ':' || (i ->> 'value')), '{}')
          FROM jsonb_array_elements(coalesce(indicators, '[]'::jsonb)) AS i $$;

CREATE INDEX alerts_by_indicator ON alerts USING gin (record_indicator_keys(record -> 'indicators'));
CREATE INDEX warnings_by_indicator ON warnings USING gin (record_indicator_keys(record -> 'indicators'));
