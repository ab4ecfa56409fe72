#!/usr/bin/env bash
# Docker Compose's one-shot `kafka-secrets` job: the local CA, the broker's certificate and one
# SCRAM password per principal, made by the same code as kafka.sh's (lib.sh), once, into the
# kafka-secrets volume. Each client principal also gets clients/<principal>/{password,ca.pem},
# which is all its service mounts (a volume subpath), so no service can read another's password.
#
# Env: KAFKA_SECRETS_DIR (/secrets), KAFKA_TLS_HOSTNAMES (kafka-2,kafka-3: the certificate
#      names 127.0.0.1, localhost and kafka already), KAFKA_SECRETS_OWNER (1000:1000, the uid of
#      both the Kafka image's and the hub image's user; applied when run as root).
set -euo pipefail

log() { echo "secrets.sh: $*"; }
die() { echo "secrets.sh: ERROR: $*" >&2; exit 1; }

SECRETS_DIR="${KAFKA_SECRETS_DIR:-/secrets}"
KAFKA_TLS_DIR="$SECRETS_DIR/tls"
KAFKA_CREDENTIALS_DIR="$SECRETS_DIR/credentials"
KAFKA_TLS_HOSTNAMES="${KAFKA_TLS_HOSTNAMES-kafka-2,kafka-3}"
KAFKA_SECURITY=sasl_ssl
# shellcheck source=infra/kafka/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$SECRETS_DIR"
ensure_tls
ensure_credentials
for principal in "${KAFKA_PRINCIPALS[@]}"; do
  [[ "$principal" == broker ]] && continue
  dir="$SECRETS_DIR/clients/$principal"
  mkdir -p "$dir"
  (umask 077; cp "$KAFKA_CREDENTIALS_DIR/$principal" "$dir/password")
  cp "$KAFKA_TLS_DIR/ca.pem" "$dir/ca.pem"
  chmod 700 "$dir"
done
if [[ "$(id -u)" == 0 ]]; then chown -R "${KAFKA_SECRETS_OWNER:-1000:1000}" "$SECRETS_DIR"; fi
log "CA, broker certificate and passwords for ${KAFKA_PRINCIPALS[*]} ready in $SECRETS_DIR"
