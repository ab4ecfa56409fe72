-- Per-service database roles (issue 22): each service connects as a role
-- granted only what its own SQL does, so a bug or an injection in one service
-- cannot write another's state (the gateway cannot insert a report; ingest
-- cannot write an alert). The owner (whoever runs the migrations) keeps
-- everything; the services' roles own nothing, so grants are all they have.
--
-- The roles are <prefix>_ingest, <prefix>_correlator and <prefix>_gateway,
-- with the prefix from DATABASE_ROLE_PREFIX (default renkei): roles are
-- cluster-wide, and two hubs on one PostgreSQL may want their own. The
-- migration runner passes it as renkei.role_prefix and creates the roles
-- first when it may (packages/db/src/roles.ts). By hand:
--   SET renkei.role_prefix = 'renkei';  -- then run this file
--
-- A table added later gets its grants in the migration that adds it: nothing
-- is granted by default, and test/integration/database-roles.test.ts fails
-- for a table no service role is granted (or that is not listed owner-only).
-- docs/OPERATIONS.md ("Database roles") shows the same table for people.
DO $$
DECLARE
  prefix text := coalesce(nullif(current_setting('renkei.role_prefix', true), ''), 'renkei');
  service text;
  g record;
BEGIN
  IF prefix !~ '^[a-z][a-z0-9_]{0,39}$' THEN
    RAISE EXCEPTION 'renkei.role_prefix must be lower-case letters, digits and _, starting with a letter: %', prefix;
  END IF;

  -- PostgreSQL 14 and older let every role create tables in public; 15 does
  -- not. Only the schema's owner may take that back.
  IF pg_has_role((SELECT nspowner FROM pg_namespace WHERE nspname = 'public'), 'USAGE') THEN
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
  END IF;

  -- From nothing: a role this cluster already had (another hub's database,
  -- an earlier grant by hand) keeps nothing here but what is listed below.
  FOREACH service IN ARRAY ARRAY['ingest', 'correlator', 'gateway'] LOOP
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', prefix || '_' || service);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', prefix || '_' || service);
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', prefix || '_' || service);
  END LOOP;

  -- What each service's SQL does, table by table. SELECT … FOR UPDATE needs
  -- an UPDATE privilege; a column list limits UPDATE to what is changed. The
  -- feed relay (feed_*, and the position of alerts and alert_versions) runs
  -- in the correlator and in the gateway. Foreign-key checks and ON DELETE
  -- CASCADE run as the table's owner and need nothing here.
  FOR g IN SELECT * FROM (VALUES
    -- ingest: the ledger, TLP change requests, the audit log; reads the
    -- registry, and a stored report's processed time and suppressions for GET.
    ('ingest', 'report_submissions', 'SELECT, INSERT, UPDATE'),
    ('ingest', 'report_tlp_changes', 'SELECT, INSERT, UPDATE'),
    ('ingest', 'audit_events', 'SELECT, INSERT'),
    ('ingest', 'organisations', 'SELECT'),
    ('ingest', 'reports', 'SELECT'),
    ('ingest', 'sightings', 'SELECT'),

    -- correlator: stores reports and what they cause; applies TLP changes
    -- (reports.tlp only); marks watchlist entries backfilled; the feed relay.
    -- It also runs the retention purge (0016), which deletes expired rows of
    -- other services' tables and audits each pass. SELECT … FOR UPDATE needs
    -- some UPDATE privilege, so the purge's lock-only tables grant UPDATE of
    -- one column it never writes (a bookkeeping time, not content).
    ('correlator', 'reports', 'SELECT, INSERT, DELETE, UPDATE (tlp)'),
    ('correlator', 'report_indicators', 'SELECT, INSERT, DELETE'),
    ('correlator', 'sightings', 'SELECT, INSERT, DELETE'),
    ('correlator', 'too_common_indicators', 'SELECT, INSERT'),
    ('correlator', 'alerts', 'SELECT, INSERT, UPDATE, DELETE'),
    ('correlator', 'alert_versions', 'SELECT, INSERT, DELETE, UPDATE (position)'),
    ('correlator', 'watchlist_entries', 'SELECT, UPDATE (backfilled_at)'),
    ('correlator', 'exclusions', 'SELECT'),
    ('correlator', 'feed_outbox', 'SELECT, INSERT, DELETE'),
    ('correlator', 'feed_head', 'SELECT, UPDATE'),
    ('correlator', 'feed_events', 'SELECT, INSERT, UPDATE, DELETE'),
    ('correlator', 'report_submissions', 'SELECT, DELETE, UPDATE (confirmed_at)'),
    ('correlator', 'report_tlp_changes', 'SELECT, DELETE'),
    ('correlator', 'alert_triage', 'SELECT, DELETE, UPDATE (updated_at)'),
    ('correlator', 'alert_triage_changes', 'SELECT, DELETE'),
    ('correlator', 'warnings', 'SELECT, DELETE, UPDATE (published_at)'),
    ('correlator', 'warning_acks', 'SELECT, DELETE'),
    ('correlator', 'exercise_runs', 'SELECT, DELETE, UPDATE (last_event)'),
    ('correlator', 'exercise_injects', 'SELECT, DELETE'),
    -- The audit class: entries a signed checkpoint covers are removed (the
    -- table's trigger refuses any other removal); the chain's head is locked
    -- only, so UPDATE of its constant key column.
    ('correlator', 'audit_events', 'SELECT, INSERT, DELETE'),
    ('correlator', 'audit_checkpoints', 'SELECT, INSERT'),
    ('correlator', 'audit_chain_head', 'SELECT, UPDATE (singleton)'),
    ('correlator', 'retention_runs', 'SELECT, INSERT, UPDATE'),

    -- gateway: reads reports and alerts (never writes them: the relay sets
    -- only their feed position); owns triage, warnings, the registry's admin
    -- routes, watchlist and exclusions, exercises, TAXII statuses, deliveries;
    -- reads the audit log and writes it; the feed relay.
    ('gateway', 'report_submissions', 'SELECT'),
    ('gateway', 'reports', 'SELECT'),
    ('gateway', 'report_indicators', 'SELECT'),
    ('gateway', 'sightings', 'SELECT'),
    ('gateway', 'alerts', 'SELECT, UPDATE (position)'),
    ('gateway', 'alert_versions', 'SELECT, UPDATE (position)'),
    ('gateway', 'alert_triage', 'SELECT, INSERT, UPDATE'),
    ('gateway', 'alert_triage_changes', 'SELECT, INSERT'),
    -- The audit sealer runs in the gateway: it sets an entry's place in the chain, nothing else.
    ('gateway', 'audit_events', 'SELECT, INSERT, UPDATE (chain_seq, chain_hash)'),
    ('gateway', 'audit_chain_head', 'SELECT, UPDATE'),
    ('gateway', 'organisations', 'SELECT, INSERT, UPDATE'),
    ('gateway', 'warnings', 'SELECT, INSERT'),
    ('gateway', 'warning_acks', 'SELECT, INSERT'),
    ('gateway', 'watchlist_entries', 'SELECT, INSERT, UPDATE'),
    ('gateway', 'exclusions', 'SELECT, INSERT, UPDATE'),
    ('gateway', 'taxii_statuses', 'SELECT, INSERT, DELETE'),
    ('gateway', 'exercise_runs', 'SELECT, INSERT, UPDATE'),
    ('gateway', 'exercise_injects', 'SELECT, INSERT, UPDATE'),
    ('gateway', 'delivery_endpoints', 'SELECT, INSERT, UPDATE'),
    ('gateway', 'delivery_head', 'SELECT, INSERT, UPDATE'),
    ('gateway', 'deliveries', 'SELECT, INSERT, UPDATE, DELETE'),
    ('gateway', 'delivery_attempts', 'SELECT, INSERT'),
    ('gateway', 'feed_outbox', 'SELECT, INSERT, DELETE'),
    ('gateway', 'feed_head', 'SELECT, UPDATE'),
    ('gateway', 'feed_events', 'SELECT, INSERT, UPDATE, DELETE')
  ) AS t(service, table_name, privileges) LOOP
    EXECUTE format('GRANT %s ON TABLE %I TO %I', g.privileges, g.table_name, prefix || '_' || g.service);
  END LOOP;

  -- The bigserial columns of the tables each role inserts into.
  FOR g IN SELECT * FROM (VALUES
    ('ingest', 'audit_events_id_seq'),
    ('correlator', 'feed_outbox_id_seq'),
    ('correlator', 'audit_events_id_seq'),
    ('correlator', 'retention_runs_id_seq'),
    ('correlator', 'audit_checkpoints_id_seq'),
    ('gateway', 'audit_events_id_seq'),
    ('gateway', 'feed_outbox_id_seq'),
    ('gateway', 'warnings_seq_seq'),
    ('gateway', 'alert_triage_changes_id_seq'),
    ('gateway', 'deliveries_seq_seq')
  ) AS t(service, sequence_name) LOOP
    EXECUTE format('GRANT USAGE ON SEQUENCE %I TO %I', g.sequence_name, prefix || '_' || g.service);
  END LOOP;
END
$$;
