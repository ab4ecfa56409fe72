-- GET /v1/reports (gateway) lists an organisation's accepted submissions,
-- newest first, paged by the last one seen: without this every page scans
-- the whole ledger.
CREATE INDEX report_submissions_by_organisation
  ON report_submissions (organisation_id, received_at DESC, id DESC)
  WHERE state = 'accepted';
