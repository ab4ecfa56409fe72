-- Cross-sector exercises: a run of a scenario, its schedule and what it sent.
-- The schedule lives here so a run survives the restart of any process: an
-- inject is sent by whichever gateway locks its row first (FOR UPDATE SKIP
-- LOCKED), in the transaction that marks it sent, so none is sent twice or skipped.
CREATE TABLE exercise_runs (
  id uuid PRIMARY KEY,
  scenario_id text NOT NULL,
  scenario_version integer NOT NULL,
  -- The scenario as checked when the run was planned.
  scenario jsonb NOT NULL,
  -- The organisations taking part, resolved from the scenario's sectors then.
  participants text[] NOT NULL,
  speed integer NOT NULL CHECK (speed BETWEEN 1 AND 600),
  state text NOT NULL CHECK (state IN ('scheduled', 'running', 'paused', 'completed', 'aborted')),
  start_at timestamptz,
  started_at timestamptz,
  -- Real-time pauses, [{"from": ms, "to": ms | null}]: scenario time stands still in them.
  pauses jsonb NOT NULL DEFAULT '[]',
  ended_at timestamptz,
  created_by text NOT NULL,
  organisation_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- The after-action summary once the run ended, for later runs to compare with.
  summary jsonb,
  -- A digest of the control's view last put on the feed: a new one only when something changed.
  last_event text
);
CREATE INDEX exercise_runs_by_scenario ON exercise_runs (scenario_id, created_at);
CREATE INDEX exercise_runs_active ON exercise_runs (state) WHERE state IN ('scheduled', 'running');

CREATE TABLE exercise_injects (
  run_id uuid NOT NULL REFERENCES exercise_runs (id),
  inject_id text NOT NULL,
  position integer NOT NULL,
  kind text NOT NULL CHECK (kind IN ('report', 'warning', 'information-request')),
  -- Scenario time from the start.
  offset_ms bigint NOT NULL,
  -- A report inject's body, fixed before the first attempt so a retry sends the same report.
  payload jsonb,
  sent_at timestamptz,
  report_id uuid,
  warning_id uuid,
  -- A warning inject: the organisations it reached when sent.
  recipients text[],
  PRIMARY KEY (run_id, inject_id)
);
CREATE INDEX exercise_injects_unsent ON exercise_injects (run_id, offset_ms, position) WHERE sent_at IS NULL;
