-- Partners' data as it comes (issue 21): context labels kept with a report,
-- and one report per source object across re-sends and edits.

-- Context for people, never correlated: threat actors, intrusion sets,
-- malware, campaigns, attack patterns, MISP tags and galaxy clusters.
-- labels_text is the same list as one text, for trigram search (0013).
ALTER TABLE reports
  ADD COLUMN labels text[] NOT NULL DEFAULT '{}',
  ADD COLUMN labels_text text NOT NULL DEFAULT '';
CREATE INDEX reports_labels_trgm ON reports USING gin (labels_text gin_trgm_ops);

-- Where an imported report came from: the source id (derived under the
-- hub's key from the organisation and the STIX container id or MISP event
-- uuid), its version time, and which part of that version it is. A report
-- of a later version supersedes every report of an earlier one
-- (docs/INTEROP.md, "One report per source object").
ALTER TABLE reports
  ADD COLUMN source_id uuid,
  ADD COLUMN source_version timestamptz,
  ADD COLUMN source_part integer,
  ADD COLUMN source_parts integer;
CREATE INDEX reports_by_source ON reports (organisation_id, source_id, source_version)
  WHERE source_id IS NOT NULL;

-- A report superseded by a later version of its source: every view that
-- lists reports leaves it out (it stays readable by id).
CREATE FUNCTION report_is_superseded(organisation text, source uuid, version timestamptz) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT source IS NOT NULL AND EXISTS (
          SELECT 1 FROM reports n
           WHERE n.organisation_id = organisation AND n.source_id = source AND n.source_version > version) $$;

-- Grants (see 0017): the correlator withdraws the sightings of values a newer
-- version of a source no longer carries (services/correlator/src/versions.ts).
DO $$
DECLARE
  prefix text := coalesce(nullif(current_setting('renkei.role_prefix', true), ''), 'renkei');
BEGIN
  EXECUTE format('GRANT UPDATE (suppressed_by) ON sightings TO %I', prefix || '_correlator');
END;
$$;
