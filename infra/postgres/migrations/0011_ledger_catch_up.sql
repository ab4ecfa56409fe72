-- Ingest's ledger follows the reports topic. Its catch-up consumer reads
-- every report message (group renkei-ingest-ledger) and writes what the
-- request path could not: a row for each report accepted while PostgreSQL was
-- away, `accepted` for each one whose update failed after Kafka's
-- acknowledgement. confirmed_at is when that consumer first read this row's
-- body on the topic: a row not yet confirmed may hold a body that the topic
-- carries only after another one for the same id (the correlator stores the
-- first), so the first body the consumer reads for the id takes its place.
ALTER TABLE report_submissions ADD COLUMN confirmed_at timestamptz;

-- Every row accepted so far was acknowledged by Kafka before any report could
-- be accepted without the ledger, so its body is on the topic before any
-- other for its id.
UPDATE report_submissions SET confirmed_at = accepted_at WHERE state = 'accepted';
