#!/usr/bin/env bash
# One Kafka node in Docker Compose (the apache/kafka image), set up as kafka.sh sets up a local
# one: the same templates and, secured, the same listeners, SCRAM credentials put in the
# metadata at format, and StandardAuthorizer (lib.sh). The CA and passwords come from the
# kafka-secrets volume (/secrets), made by the kafka-secrets job (secrets.sh).
#
# Usage: compose-node.sh [start|health|render]   (render: only write the properties, for tests)
# Env: KAFKA_NODE_ID, CLUSTER_ID, RENKEI_KAFKA_VOTERS (1@kafka:9093), KAFKA_ADVERTISED_HOST
#      (the service name), KAFKA_SECURITY (sasl_ssl; plaintext only as a development override),
#      RENKEI_KAFKA_REPLICAS (1), RENKEI_KAFKA_MIN_ISR (1), KAFKA_BROKER_SESSION_TIMEOUT_MS,
#      KAFKA_BROKER_HEARTBEAT_MS; KAFKA_SECRETS_DIR (/secrets), KAFKA_HOME (/opt/kafka) and
#      KAFKA_PROPS (/tmp/server.properties) for a test outside the image.
set -euo pipefail

log() { echo "compose-node.sh: $*"; }
die() { echo "compose-node.sh: ERROR: $*" >&2; exit 1; }

KAFKA_SECURITY="${KAFKA_SECURITY:-sasl_ssl}"
KAFKA_TLS_DIR="${KAFKA_SECRETS_DIR:-/secrets}/tls"
KAFKA_CREDENTIALS_DIR="${KAFKA_SECRETS_DIR:-/secrets}/credentials"
KAFKA_BROKER_SESSION_TIMEOUT_MS="${KAFKA_BROKER_SESSION_TIMEOUT_MS:-4000}"
KAFKA_BROKER_HEARTBEAT_MS="${KAFKA_BROKER_HEARTBEAT_MS:-1000}"
KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
PROPS="${KAFKA_PROPS:-/tmp/server.properties}"
PORT=9092
# shellcheck source=infra/kafka/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "$KAFKA_SECURITY" in
  sasl_ssl | plaintext) ;;
  *) die "KAFKA_SECURITY must be sasl_ssl or plaintext, not $KAFKA_SECURITY" ;;
esac

render() {
  : "${KAFKA_NODE_ID:?}" "${KAFKA_ADVERTISED_HOST:?}"
  render_node_properties "$PROPS" "" "$KAFKA_ADVERTISED_HOST" "$KAFKA_NODE_ID" "$PORT" 9093 \
    "${RENKEI_KAFKA_VOTERS:-1@kafka:9093}" "${RENKEI_KAFKA_REPLICAS:-1}" "${RENKEI_KAFKA_MIN_ISR:-1}" \
    /var/lib/kafka/data
}

case "${1:-start}" in
  render) render; echo "$PROPS" ;;
  start)
    : "${CLUSTER_ID:?}"
    [[ "$KAFKA_SECURITY" == plaintext ]] && log "KAFKA_SECURITY=plaintext: anyone on this network may read and write every topic"
    render
    scram_format_args
    "$KAFKA_HOME/bin/kafka-storage.sh" format -t "$CLUSTER_ID" -c "$PROPS" --ignore-formatted "${SCRAM_ARGS[@]}"
    exec "$KAFKA_HOME/bin/kafka-server-start.sh" "$PROPS"
    ;;
  health)
    # The healthcheck: the broker answers a client as the hub's services reach it.
    client=/tmp/health.properties
    if [[ "$KAFKA_SECURITY" == sasl_ssl ]]; then
      (umask 077; printf '%s\n' "security.protocol=SASL_SSL" "sasl.mechanism=SCRAM-SHA-512" \
        "ssl.truststore.type=PEM" "ssl.truststore.location=$KAFKA_TLS_DIR/ca.pem" \
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$(credential admin)\";" \
        >"$client")
    else
      : >"$client"
    fi
    exec "$KAFKA_HOME/bin/kafka-broker-api-versions.sh" --bootstrap-server "localhost:$PORT" --command-config "$client" >/dev/null
    ;;
  *) die "usage: $0 [start|health|render]" ;;
esac
