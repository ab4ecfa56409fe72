#!/usr/bin/env bash
# The hub's database roles, as production has them (docs/OPERATIONS.md,
# "Database roles"): renkei_owner owns the database and applies the
# migrations, but is no superuser and may create no role; each service logs
# in as its own role, which migration 0017 grants only what that service does.
# The postgres image runs this once, when it initialises an empty data volume
# (/docker-entrypoint-initdb.d), as the superuser. The passwords come from the
# postgres service's environment in docker-compose.yml.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$RENKEI_OWNER_PASSWORD" \
  -v ingest_password="$RENKEI_INGEST_PASSWORD" \
  -v correlator_password="$RENKEI_CORRELATOR_PASSWORD" \
  -v gateway_password="$RENKEI_GATEWAY_PASSWORD" <<'SQL'
CREATE ROLE renkei_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE renkei_ingest LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'ingest_password';
CREATE ROLE renkei_correlator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'correlator_password';
CREATE ROLE renkei_gateway LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'gateway_password';
-- The owner of the database owns its public schema (PostgreSQL 15), so the
-- migrations may create tables there; the services' roles may not.
CREATE DATABASE renkei OWNER renkei_owner;
SQL
