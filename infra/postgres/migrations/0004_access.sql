-- Who may use the hub and what the GSOC tells them: the organisation
-- registry every token is checked against, and shared warnings (注意喚起)
-- with their acknowledgements.

-- Every organisation the hub knows. A token is honoured only while its
-- organisation is here and enabled; its sector is always the one here.
CREATE TABLE organisations (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  sector text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('agency', 'ceptar', 'operator', 'gsoc')),
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Services keep the registry in memory; this tells them to read it again.
CREATE FUNCTION organisations_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('renkei_organisations', '');
  RETURN NULL;
END;
$$;
CREATE TRIGGER organisations_notify
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organisations
  FOR EACH STATEMENT EXECUTE FUNCTION organisations_changed();

CREATE TABLE warnings (
  id uuid PRIMARY KEY,
  -- Orders the inbox and is its paging cursor.
  seq bigserial UNIQUE,
  -- NULL targets every sector ("all").
  sectors text[],
  exercise boolean NOT NULL,
  published_by text NOT NULL,
  published_at timestamptz NOT NULL,
  -- The warning as the feed carries it (WarningRecord).
  record jsonb NOT NULL
);
CREATE INDEX warnings_by_sector ON warnings USING gin (sectors);

-- One acknowledgement per organisation: a repeat changes nothing.
CREATE TABLE warning_acks (
  warning_id uuid NOT NULL REFERENCES warnings (id),
  organisation_id text NOT NULL REFERENCES organisations (id),
  acknowledged_by text NOT NULL,
  acknowledged_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (warning_id, organisation_id)
);
