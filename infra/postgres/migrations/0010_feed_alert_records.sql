-- An alert version's feed event no longer copies the alert's record:
-- alert_versions holds it, and the feed's readers take it from there. The
-- record was written three times in the correlator's transaction (alerts,
-- alert_versions, feed_outbox) and a fourth time when sequenced; a surge's
-- record reaches a hundred kilobytes. Other events keep their payload.
ALTER TABLE feed_outbox ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE feed_events ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE feed_outbox ADD CONSTRAINT feed_outbox_payload_or_alert_version
  CHECK (payload IS NOT NULL OR (kind = 'alert' AND alert_id IS NOT NULL AND alert_version IS NOT NULL));
ALTER TABLE feed_events ADD CONSTRAINT feed_events_payload_or_alert_version
  CHECK (payload IS NOT NULL OR (kind = 'alert' AND alert_id IS NOT NULL AND alert_version IS NOT NULL));
