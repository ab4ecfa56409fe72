-- Triage: where each alert stands on the watch floor, and every change to it.
-- Each change is written with its audit event and its feed event in one
-- transaction, so the history, the audit log and what analysts saw live agree.

-- The current state; an alert without a row is `new` and unassigned.
CREATE TABLE alert_triage (
  alert_id uuid PRIMARY KEY REFERENCES alerts (id),
  status text NOT NULL
    CHECK (status IN ('new', 'acknowledged', 'investigating', 'resolved', 'false-positive')),
  assignee text,
  -- Null until the first change.
  updated_by text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every change, oldest first by id: a status move, an assignment or a note.
CREATE TABLE alert_triage_changes (
  id bigserial PRIMARY KEY,
  alert_id uuid NOT NULL REFERENCES alerts (id),
  change text NOT NULL CHECK (change IN ('status', 'assignee', 'note')),
  -- The state after the change.
  status text NOT NULL,
  assignee text,
  note text,
  changed_by text NOT NULL,
  organisation_id text NOT NULL,
  changed_at timestamptz NOT NULL
);
CREATE INDEX alert_triage_changes_by_alert ON alert_triage_changes (alert_id, id);
