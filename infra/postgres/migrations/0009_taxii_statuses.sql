-- TAXII 2.1 status resources of adds (section 4.3): kept for a day and
-- readable through any gateway, since a client may ask a different one
-- behind the load balancer than the one that took its add.
CREATE TABLE taxii_statuses (
  id uuid PRIMARY KEY,
  organisation_id text NOT NULL,
  status jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX taxii_statuses_by_age ON taxii_statuses (created_at);
