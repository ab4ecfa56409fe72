-- A submitter tightens a report's TLP after submission.

-- Ingest's ledger of TLP changes, one row per (report, label asked for). Like
-- report_submissions it is written before the Kafka send and marked accepted
-- after the acknowledgement, so a retried request is answered again (or sent
-- again, when the first attempt stopped halfway) and never acted on twice.
CREATE TABLE report_tlp_changes (
  report_id uuid NOT NULL REFERENCES report_submissions (id),
  tlp text NOT NULL CHECK (tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED')),
  organisation_id text NOT NULL,
  changed_by text NOT NULL,
  message jsonb NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'accepted')),
  received_at timestamptz NOT NULL,
  accepted_at timestamptz,
  PRIMARY KEY (report_id, tlp)
);

-- The reports an alert record holds, for finding every alert a TLP change
-- must rewrite without reading them all. IMMUTABLE holds: it reads only its
-- argument.
CREATE FUNCTION alert_report_ids(record jsonb) RETURNS uuid[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT coalesce(array_agg((c ->> 'reportId')::uuid), '{}')
          FROM jsonb_array_elements(record -> 'contributions') AS c $$;

CREATE INDEX alerts_by_report ON alerts USING gin (alert_report_ids(record));
