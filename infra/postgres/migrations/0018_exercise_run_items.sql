-- Everything of an exercise run is stamped with the run id: the reports its
-- injects sent and its participants submitted, the alerts raised from them,
-- the warnings it sent or the GSOC published during it, and the
-- acknowledgements and triage of those. One mapping table rather than a column
-- on each of six tables: reports, alerts and triage are written by the
-- correlator and the gateway on paths that know nothing of runs, an item can
-- belong to two runs played at the same time (a report of a participant of
-- both), and a purge reads one index instead of six tables.
--
-- Who stamps: the scheduler stamps a report inject's id before it sends it
-- (the id is fixed by the run and the inject, so a stamp never follows a
-- member's word) and a warning inject's id before it inserts the warning.
-- Everything else is stamped by the triggers below, in the transaction that
-- writes it, whichever service writes it: a report from a participant while
-- a run it takes part in is on, an exercise warning published while a run is
-- on, an alert holding a stamped report, an acknowledgement of a stamped
-- warning, a triage change of a stamped alert. Real traffic never meets the
-- report, warning and alert triggers (WHEN exercise); an acknowledgement or a
-- triage change costs one index probe.
-- No foreign key to exercise_runs, on purpose: the triggers run inside the
-- correlator's transactions, and a key would make each stamp wait for any lock
-- the scheduler or a control route holds on the run row (FOR UPDATE), and with
-- it every real report of the same group commit. Run rows are never deleted.
CREATE TABLE exercise_run_items (
  run_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('report', 'alert', 'warning', 'ack', 'triage')),
  -- report, alert, warning: its id; ack: "<warning id>/<organisation id>"; triage: the change's id.
  item_id text NOT NULL,
  stamped_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, kind, item_id)
);
CREATE INDEX exercise_run_items_by_item ON exercise_run_items (kind, item_id);

-- Archiving freezes the after-action report in the run row; only then may the
-- run's items be purged, and the archived report stays readable after.
ALTER TABLE exercise_runs
  ADD COLUMN archived_at timestamptz,
  ADD COLUMN archived_report jsonb,
  ADD COLUMN purged_at timestamptz;

-- The window a run stamps by: from its start to its end (or still on). It is
-- the window scoring reads reports and warnings by.
CREATE FUNCTION exercise_runs_on(at timestamptz) RETURNS SETOF exercise_runs
  LANGUAGE sql STABLE
  AS $$ SELECT * FROM exercise_runs
         WHERE started_at IS NOT NULL AND started_at <= at AND (ended_at IS NULL OR ended_at >= at) $$;

CREATE FUNCTION exercise_stamp_report() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A report inject was stamped before it was sent: it belongs to that run only.
  IF NOT EXISTS (SELECT 1 FROM exercise_run_items WHERE kind = 'report' AND item_id = NEW.id::text) THEN
    INSERT INTO exercise_run_items (run_id, kind, item_id)
    SELECT r.id, 'report', NEW.id::text FROM exercise_runs_on(NEW.received_at) r
     WHERE NEW.organisation_id = ANY (r.participants)
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER reports_exercise_run AFTER INSERT ON reports
  FOR EACH ROW WHEN (NEW.exercise) EXECUTE FUNCTION exercise_stamp_report();

CREATE FUNCTION exercise_stamp_warning() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM exercise_run_items WHERE kind = 'warning' AND item_id = NEW.id::text) THEN
    INSERT INTO exercise_run_items (run_id, kind, item_id)
    SELECT r.id, 'warning', NEW.id::text FROM exercise_runs_on(NEW.published_at) r
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER warnings_exercise_run AFTER INSERT ON warnings
  FOR EACH ROW WHEN (NEW.exercise) EXECUTE FUNCTION exercise_stamp_warning();

-- An alert joins exercise reports only (the correlator keys exercise apart),
-- and each new version may bring reports of a run: stamp on every version.
CREATE FUNCTION exercise_stamp_alert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO exercise_run_items (run_id, kind, item_id)
  SELECT DISTINCT i.run_id, 'alert', NEW.id::text
    FROM jsonb_array_elements(NEW.record -> 'contributions') AS c
    JOIN exercise_run_items i ON i.kind = 'report' AND i.item_id = c ->> 'reportId'
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END;
$$;
CREATE TRIGGER alerts_exercise_run AFTER INSERT OR UPDATE ON alerts
  FOR EACH ROW WHEN (NEW.exercise) EXECUTE FUNCTION exercise_stamp_alert();

CREATE FUNCTION exercise_stamp_ack() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO exercise_run_items (run_id, kind, item_id)
  SELECT i.run_id, 'ack', NEW.warning_id::text || '/' || NEW.organisation_id
    FROM exercise_run_items i WHERE i.kind = 'warning' AND i.item_id = NEW.warning_id::text
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END;
$$;
CREATE TRIGGER warning_acks_exercise_run AFTER INSERT ON warning_acks
  FOR EACH ROW EXECUTE FUNCTION exercise_stamp_ack();

CREATE FUNCTION exercise_stamp_triage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO exercise_run_items (run_id, kind, item_id)
  SELECT i.run_id, 'triage', NEW.id::text
    FROM exercise_run_items i WHERE i.kind = 'alert' AND i.item_id = NEW.alert_id::text
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END;
$$;
CREATE TRIGGER alert_triage_changes_exercise_run AFTER INSERT ON alert_triage_changes
  FOR EACH ROW EXECUTE FUNCTION exercise_stamp_triage();

-- Runs played before this migration: stamp what they made, the same way.
INSERT INTO exercise_run_items (run_id, kind, item_id)
SELECT run_id, 'report', report_id::text FROM exercise_injects WHERE report_id IS NOT NULL AND sent_at IS NOT NULL
UNION
SELECT run_id, 'warning', warning_id::text FROM exercise_injects WHERE warning_id IS NOT NULL
ON CONFLICT DO NOTHING;
INSERT INTO exercise_run_items (run_id, kind, item_id)
SELECT r.id, 'report', p.id::text
  FROM reports p JOIN exercise_runs r
    ON r.started_at IS NOT NULL AND p.received_at >= r.started_at
   AND (r.ended_at IS NULL OR p.received_at <= r.ended_at) AND p.organisation_id = ANY (r.participants)
 WHERE p.exercise AND NOT EXISTS (
   SELECT 1 FROM exercise_injects j WHERE j.report_id = p.id AND j.sent_at IS NOT NULL)
UNION
SELECT r.id, 'warning', w.id::text
  FROM warnings w JOIN exercise_runs r
    ON r.started_at IS NOT NULL AND w.published_at >= r.started_at
   AND (r.ended_at IS NULL OR w.published_at <= r.ended_at)
 WHERE w.exercise AND NOT EXISTS (SELECT 1 FROM exercise_injects j WHERE j.warning_id = w.id)
ON CONFLICT DO NOTHING;
INSERT INTO exercise_run_items (run_id, kind, item_id)
SELECT DISTINCT i.run_id, 'alert', a.id::text
  FROM alerts a, jsonb_array_elements(a.record -> 'contributions') AS c, exercise_run_items i
 WHERE a.exercise AND i.kind = 'report' AND i.item_id = c ->> 'reportId'
ON CONFLICT DO NOTHING;
INSERT INTO exercise_run_items (run_id, kind, item_id)
SELECT i.run_id, 'ack', k.warning_id::text || '/' || k.organisation_id
  FROM warning_acks k JOIN exercise_run_items i ON i.kind = 'warning' AND i.item_id = k.warning_id::text
UNION
SELECT i.run_id, 'triage', t.id::text
  FROM alert_triage_changes t JOIN exercise_run_items i ON i.kind = 'alert' AND i.item_id = t.alert_id::text
ON CONFLICT DO NOTHING;

-- Grants (see 0017): the stamps are written by triggers, which run as whoever
-- writes the row that fires them: the correlator (reports, alerts), the
-- gateway (warnings, acknowledgements, triage, the feed relay's alert
-- positions, the scheduler's own stamps). Purging a run removes them as the
-- owner (the gateway's purge connection), so no service role may delete one.
DO $$
DECLARE
  prefix text := coalesce(nullif(current_setting('renkei.role_prefix', true), ''), 'renkei');
BEGIN
  EXECUTE format('GRANT SELECT, INSERT ON exercise_run_items TO %I, %I', prefix || '_correlator', prefix || '_gateway');
END;
$$;
