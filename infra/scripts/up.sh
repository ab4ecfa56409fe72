#!/usr/bin/env bash
# Brings the whole hub up on this machine: dependencies, the Kafka broker, the
# database, the signing key, the topics and the three services, in the background.
# Stop it with `npm run down`. Running it again restarts the services.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INGEST_PORT="${INGEST_PORT:-7400}"
GATEWAY_PORT="${GATEWAY_PORT:-7401}"
CORRELATOR_PORT="${CORRELATOR_PORT:-7402}"
HOST="${HOST:-127.0.0.1}"
READY_TIMEOUT="${RENKEI_READY_TIMEOUT:-90}"
SERVICES=(correlator ingest gateway)

require_tools
install_dependencies
build_console

say "Starting Kafka"
"$REPO_ROOT/infra/kafka/kafka.sh" start

cli() { (cd "$REPO_ROOT" && node_modules/.bin/tsx packages/cli/src/main.ts "$@"); }
say "Preparing PostgreSQL"
cli migrate || die "could not prepare the database: is PostgreSQL running (or DATABASE_URL set)?"

say "Preparing keys and topics"
cli keys >/dev/null
cli topics >/dev/null

# A token is honoured only for a registered organisation: a small demo set,
# registered once (an organisation already there is left as it is).
DEMO_ORGANISATIONS=(
  "gsoc|central-government|gsoc|GSOC (Government Security Operation Coordination team)"
  "mhlw-csirt|central-government|agency|MHLW CSIRT"
  "mlit-csirt|central-government|agency|MLIT CSIRT"
  "finance-ceptar|finance|ceptar|Financial sector CEPTAR"
  "telecom-ceptar|telecom|ceptar|Telecommunications CEPTAR"
  "tokyo-power|electricity|operator|Tokyo Power (operator)"
)
say "Registering the demo organisations"
registered="$(cli org list | cut -f1)" || die "could not read the organisation registry"
for entry in "${DEMO_ORGANISATIONS[@]}"; do
  IFS='|' read -r id sector kind name <<<"$entry"
  grep -qx "$id" <<<"$registered" || cli org add --id "$id" --sector "$sector" --kind "$kind" --name "$name" >/dev/null
done

# Services started by an earlier `up` are stopped first, so `up` is also how to restart.
"$REPO_ROOT/infra/scripts/down.sh" --services-only

port_of() {
  case "$1" in
    ingest) echo "$INGEST_PORT" ;;
    gateway) echo "$GATEWAY_PORT" ;;
    correlator) echo "$CORRELATOR_PORT" ;;
  esac
}
# Readiness is asked of the port: whatever answers there must be what this run started.
for name in "${SERVICES[@]}"; do
  port="$(port_of "$name")"
  if (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then
    die "$HOST:$port ($name) is already in use by a process this checkout did not start; stop it or set ${name^^}_PORT"
  fi
done

mkdir -p "$RUN_DIR" "$LOG_DIR"
start_service() {
  local name="$1" log="$LOG_DIR/$1.log" pid
  # A fresh log per run (the previous one kept as .log.1), so nothing read below predates this start.
  [[ -f "$log" ]] && mv -f "$log" "$log.1"
  say "Starting $name (log: ${log#"$REPO_ROOT"/})"
  (
    cd "$REPO_ROOT/services/$name" || exit 1
    # exec: the pid recorded below is the service's own, so down.sh's signal reaches it.
    # Local development mode: the console offers demo sign-in, and its page may submit to ingest.
    INGEST_PORT="$INGEST_PORT" GATEWAY_PORT="$GATEWAY_PORT" CORRELATOR_PORT="$CORRELATOR_PORT" HOST="$HOST" \
      GATEWAY_DEV_MODE=true GATEWAY_INGEST_URL="http://$HOST:$INGEST_PORT" \
      INGEST_ALLOWED_ORIGINS="http://$HOST:$GATEWAY_PORT,http://localhost:$GATEWAY_PORT" \
      exec nohup node --import tsx src/main.ts </dev/null >"$log" 2>&1
  ) &
  pid=$!
  # The start time lets down.sh tell this process from a later one that reuses its pid.
  echo "$pid $(process_start_time "$pid")" >"$RUN_DIR/$name.pid"
}
for name in "${SERVICES[@]}"; do start_service "$name"; done

# On failure, the services this run started are stopped again; their logs stay.
abort() {
  local name="$1" reason="$2"
  echo "----- $LOG_DIR/$name.log (last 20 lines) -----" >&2
  tail -n 20 "$LOG_DIR/$name.log" >&2 || true
  "$REPO_ROOT/infra/scripts/down.sh" --services-only >&2 || true
  die "$name $reason (see $LOG_DIR/$name.log)"
}
ready() {
  node -e "fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
    .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" "$1"
}
pending=("${SERVICES[@]}")
deadline=$((SECONDS + READY_TIMEOUT))
while ((${#pending[@]} > 0)); do
  still=()
  for name in "${pending[@]}"; do
    read -r pid _ <"$RUN_DIR/$name.pid"
    process_alive "$pid" || abort "$name" "stopped during start-up"
    if ready "http://$HOST:$(port_of "$name")/readyz"; then
      say "$name is ready"
    else
      still+=("$name")
    fi
  done
  pending=("${still[@]}")
  ((${#pending[@]} == 0)) && break
  ((SECONDS < deadline)) || abort "${pending[0]}" "did not answer /readyz with 200 within $READY_TIMEOUT s (waiting for: ${pending[*]})"
  sleep 0.5
done

if command -v pnpm >/dev/null && [[ "$(pnpm --version 2>/dev/null)" == "$PNPM_VERSION" ]]; then
  PNPM_HINT="pnpm"
else
  PNPM_HINT="npx pnpm@$PNPM_VERSION"
fi
cat <<MSG

Renkei is up.
  console     http://$HOST:$GATEWAY_PORT/    sign in with a token, or as a demo organisation (development mode)
  ingest      http://$HOST:$INGEST_PORT    POST /v1/reports, GET /v1/reports/:id
  gateway     http://$HOST:$GATEWAY_PORT    GET /v1/alerts, /v1/warnings, /v1/organisations, /v1/audit, WebSocket ws://$HOST:$GATEWAY_PORT/v1/stream
  correlator  http://$HOST:$CORRELATOR_PORT    GET /healthz, GET /readyz
  kafka       ${KAFKA_BROKERS:-127.0.0.1:${KAFKA_PORT:-9092}}
  logs        ${LOG_DIR}/

Demo organisations ($PNPM_HINT renkei org list; add more with: renkei org add --id … --name … --sector … --kind …):
  gsoc            central-government  gsoc      $PNPM_HINT renkei token --org gsoc --role analyst --ttl 8h
                                                 $PNPM_HINT renkei token --org gsoc --role admin
  mhlw-csirt      central-government  agency    $PNPM_HINT renkei token --org mhlw-csirt --role reporter
  mlit-csirt      central-government  agency    $PNPM_HINT renkei token --org mlit-csirt --role reporter
  finance-ceptar  finance             ceptar    $PNPM_HINT renkei token --org finance-ceptar --role ceptar
  telecom-ceptar  telecom             ceptar    $PNPM_HINT renkei token --org telecom-ceptar --role ceptar
  tokyo-power     electricity         operator  $PNPM_HINT renkei token --org tokyo-power --role reporter
Each token is printed alone on stdout; its sector comes from the registry.

Send a report:
  TOKEN=\$($PNPM_HINT renkei token --org mhlw-csirt --role reporter)
  curl -sS -X POST http://$HOST:$INGEST_PORT/v1/reports -H "authorization: Bearer \$TOKEN" \\
    -H 'content-type: application/json' \\
    -d '{"title":"Phishing wave","category":"phishing","severity":"high","tlp":"GREEN",
         "detectedAt":"2026-11-28T09:00:00Z","indicators":[{"type":"domain","value":"evil.example"}]}'

Stop everything: npm run down
MSG
