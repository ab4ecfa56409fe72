-- A tamper-evident audit log. Writers insert rows as before (nothing in their
-- path waits on the chain); a sealer, one at a time across the hub, gives each
-- committed row its place in the chain (`chain_seq`, dense, in the order rows
-- were sealed) and `chain_hash = sha256(previous hash || the row's fields)`.
-- `renkei audit verify` walks the chain and names the first entry changed,
-- removed or reordered. See packages/audit/src/chain.ts for the encoding.

ALTER TABLE audit_events
  ADD COLUMN chain_seq bigint UNIQUE,
  ADD COLUMN chain_hash text CHECK (chain_hash ~ '^[0-9a-f]{64}$'),
  ADD CONSTRAINT audit_events_sealed_whole CHECK ((chain_seq IS NULL) = (chain_hash IS NULL));

-- The sealer's work list: small, because rows are sealed within a second or so.
CREATE INDEX audit_events_unsealed ON audit_events (id) WHERE chain_seq IS NULL;

-- The chain's head: the last sequence sealed and its hash. Sealers lock this
-- row, so they run one at a time; the verifier compares the end of its walk
-- with it, so removing the newest entries shows unless the head is rewritten
-- too (only a copy kept outside the database, such as an export, catches that).
CREATE TABLE audit_chain_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_seq bigint NOT NULL,
  last_hash text NOT NULL CHECK (last_hash ~ '^[0-9a-f]{64}$')
);
INSERT INTO audit_chain_head (last_seq, last_hash) VALUES (0, repeat('0', 64));

-- What a purge removed: every entry up to `up_to_seq`, whose hash was
-- `chain_hash`. `jws` signs all of it (Ed25519, the hub's audit key); the
-- columns are for reading, and the verifier trusts only the signed payload.
CREATE TABLE audit_checkpoints (
  id bigserial PRIMARY KEY,
  up_to_seq bigint NOT NULL UNIQUE,
  chain_hash text NOT NULL CHECK (chain_hash ~ '^[0-9a-f]{64}$'),
  removed bigint NOT NULL CHECK (removed >= 0),
  oldest_at timestamptz,
  newest_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  jws text NOT NULL
);

-- Still append-only, with two exceptions the chain itself accounts for:
-- sealing (chain_seq and chain_hash set once, nothing else touched), and
-- removing a sealed entry a checkpoint covers. Anyone able to write a
-- checkpoint row can then delete, but not forge the checkpoint's signature,
-- which the verifier checks.
CREATE OR REPLACE FUNCTION audit_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
     AND (NEW.id, NEW.at, NEW.kind, NEW.actor, NEW.organisation_id, NEW.object, NEW.outcome, NEW.details)
         IS NOT DISTINCT FROM
         (OLD.id, OLD.at, OLD.kind, OLD.actor, OLD.organisation_id, OLD.object, OLD.outcome, OLD.details) THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'DELETE' AND OLD.chain_seq IS NOT NULL
     AND EXISTS (SELECT 1 FROM audit_checkpoints WHERE up_to_seq >= OLD.chain_seq) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$;

CREATE FUNCTION audit_checkpoints_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_checkpoints is append-only';
END;
$$;
CREATE TRIGGER audit_checkpoints_append_only
  BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_are_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate
  BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_are_append_only();
