#!/usr/bin/env bash
# Brings the whole hub up on this machine: dependencies, the Kafka broker, the
# database, the signing key, the topics and the three services, in the background.
# Stop it with `npm run down`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INGEST_PORT="${INGEST_PORT:-7400}"
GATEWAY_PORT="${GATEWAY_PORT:-7401}"
HOST="${HOST:-127.0.0.1}"
RUN_DIR="$STATE_DIR/run"
LOG_DIR="$STATE_DIR/logs"

require_tools
install_dependencies

say "Starting Kafka"
"$REPO_ROOT/infra/kafka/kafka.sh" start

cli() { (cd "$REPO_ROOT" && node_modules/.bin/tsx packages/cli/src/main.ts "$@"); }
say "Preparing PostgreSQL"
cli migrate || die "could not prepare the database: is PostgreSQL running (or DATABASE_URL set)?"

say "Preparing keys and topics"
cli keys >/dev/null
cli topics >/dev/null

# Services started by an earlier `up` are stopped first, so `up` is also how to restart.
"$REPO_ROOT/infra/scripts/down.sh" --services-only

mkdir -p "$RUN_DIR" "$LOG_DIR"
start_service() {
  local name="$1"
  say "Starting $name (log: ${LOG_DIR#"$REPO_ROOT"/}/$name.log)"
  (
    cd "$REPO_ROOT/services/$name"
    INGEST_PORT="$INGEST_PORT" GATEWAY_PORT="$GATEWAY_PORT" HOST="$HOST" \
      nohup node --import tsx src/main.ts >>"$LOG_DIR/$name.log" 2>&1 &
    echo $! >"$RUN_DIR/$name.pid"
  )
}
start_service correlator
start_service ingest
start_service gateway

wait_until() {
  local what="$1" check="$2" deadline=$((SECONDS + 90))
  until eval "$check"; do
    for name in correlator ingest gateway; do
      kill -0 "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null || {
        tail -n 20 "$LOG_DIR/$name.log" >&2
        die "$name stopped during start-up (see $LOG_DIR/$name.log)"
      }
    done
    ((SECONDS < deadline)) || die "$what did not become ready in 90 s"
    sleep 0.5
  done
}
ready() { node -e "fetch('$1').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; }
wait_until "ingest" "ready http://$HOST:$INGEST_PORT/readyz"
wait_until "gateway" "ready http://$HOST:$GATEWAY_PORT/readyz"
wait_until "correlator" "grep -q 'correlator consuming' '$LOG_DIR/correlator.log'"

if command -v pnpm >/dev/null && [[ "$(pnpm --version 2>/dev/null)" == "$PNPM_VERSION" ]]; then
  PNPM_HINT="pnpm"
else
  PNPM_HINT="npx pnpm@$PNPM_VERSION"
fi
cat <<MSG

Renkei is up.
  ingest   http://$HOST:$INGEST_PORT    POST /v1/reports, GET /v1/reports/:id
  gateway  http://$HOST:$GATEWAY_PORT    GET /v1/alerts, WebSocket ws://$HOST:$GATEWAY_PORT/v1/stream
  kafka    127.0.0.1:${KAFKA_PORT:-9092}
  logs     ${LOG_DIR}/

Mint a token (printed alone on stdout):
  $PNPM_HINT renkei token --org mhlw-csirt --sector central-government --role reporter
  $PNPM_HINT renkei token --org gsoc --sector central-government --role analyst --ttl 8h

Send a report:
  TOKEN=\$($PNPM_HINT renkei token --org mhlw-csirt --sector central-government --role reporter)
  curl -sS -X POST http://$HOST:$INGEST_PORT/v1/reports -H "authorization: Bearer \$TOKEN" \\
    -H 'content-type: application/json' \\
    -d '{"title":"Phishing wave","category":"phishing","severity":"high","tlp":"GREEN",
         "detectedAt":"2026-11-28T09:00:00Z","indicators":[{"type":"domain","value":"evil.example"}]}'

Stop everything: npm run down
MSG
