#!/usr/bin/env bash
# Brings the whole hub up on this machine: dependencies, the Kafka broker, the
# database, the signing key, the topics and the three services, in the background
# under a supervisor that starts again any service that stops. Stop it with
# `npm run down`; `npm run status` shows each service. Running it again on a hub
# that is up starts only what is down and skips the install and the console
# build when nothing they read has changed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INGEST_PORT="${INGEST_PORT:-7400}"
GATEWAY_PORT="${GATEWAY_PORT:-7401}"
CORRELATOR_PORT="${CORRELATOR_PORT:-7402}"
HOST="${HOST:-127.0.0.1}"
# Development mode: the console offers demo sign-in (tokens without a credential,
# for requests from this machine only). On unless GATEWAY_DEV_MODE=false, and
# never when the services listen beyond this machine.
GATEWAY_DEV_MODE="${GATEWAY_DEV_MODE:-true}"
case "$GATEWAY_DEV_MODE" in
  true | false) ;;
  *) die "GATEWAY_DEV_MODE must be true or false, not '$GATEWAY_DEV_MODE'" ;;
esac
case "$HOST" in
  127.* | localhost | ::1 | '[::1]') ;;
  *) GATEWAY_DEV_MODE=false ;;
esac
READY_TIMEOUT="${RENKEI_READY_TIMEOUT:-90}"
SERVICES=(correlator ingest gateway)

# npm run up -- --brokers 3: a three-node Kafka cluster on this machine instead of one broker.
while (($# > 0)); do
  case "$1" in
    --brokers) KAFKA_BROKER_COUNT="${2:-}"; shift 2 ;;
    --brokers=*) KAFKA_BROKER_COUNT="${1#--brokers=}"; shift ;;
    *) die "unknown option $1 (the one option is --brokers 1|3)" ;;
  esac
done
export KAFKA_BROKER_COUNT="${KAFKA_BROKER_COUNT:-1}"
[[ "$KAFKA_BROKER_COUNT" == 1 || "$KAFKA_BROKER_COUNT" == 3 ]] || die "--brokers must be 1 or 3"

require_tools
install_dependencies_if_changed
build_console_if_changed

# Secured by default: TLS + SCRAM with a principal and ACLs per service (kafka.sh makes the CA
# and the passwords under .renkei/; `renkei topics` creates the topics and grants the ACLs as
# admin; each service reads its own password). KAFKA_SECURITY=plaintext npm run up is for
# development only: anyone who reaches the port may read and write every topic.
case "${KAFKA_SECURITY:-sasl_ssl}" in
  sasl_ssl | plaintext) ;;
  *) die "KAFKA_SECURITY must be sasl_ssl (the default) or plaintext, not '$KAFKA_SECURITY'" ;;
esac
say "Starting Kafka ($KAFKA_BROKER_COUNT broker(s), ${KAFKA_SECURITY:-sasl_ssl})"
# kafka.sh refuses a state dir formatted with another security than asked (a checkout from
# before sasl_ssl was the default is plaintext), naming both ways out.
"$REPO_ROOT/infra/kafka/kafka.sh" start
# The services and the CLI speak what the broker speaks.
KAFKA_SECURITY="$("$REPO_ROOT/infra/kafka/kafka.sh" security 2>/dev/null || echo "${KAFKA_SECURITY:-sasl_ssl}")"
export KAFKA_SECURITY
if [[ "$KAFKA_SECURITY" == plaintext ]]; then
  say "KAFKA_SECURITY=plaintext: anyone who reaches the broker may read and write every topic (development only)"
fi
# One variable names the brokers for the services and the CLI; unless it is set,
# it follows the broker(s) just started (KAFKA_PORT included).
[[ -n "$KAFKA_BROKERS_GIVEN" ]] || KAFKA_BROKERS="$("$REPO_ROOT/infra/kafka/kafka.sh" brokers)"
export KAFKA_BROKERS
# Three nodes: every topic on all three (the brokers require two in sync for a write).
if [[ "$KAFKA_BROKER_COUNT" == 3 ]]; then export KAFKA_REPLICATION_FACTOR="${KAFKA_REPLICATION_FACTOR:-3}"; fi

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

port_of() {
  case "$1" in
    ingest) echo "$INGEST_PORT" ;;
    gateway) echo "$GATEWAY_PORT" ;;
    correlator) echo "$CORRELATOR_PORT" ;;
  esac
}

mkdir -p "$RUN_DIR" "$LOG_DIR"
started_supervisor=false
if pid="$(supervisor_pid)"; then
  # Whatever stopped is already being started again by the supervisor: the
  # services that run keep their clients.
  say "The hub is already up (supervisor pid $pid); it starts again any service that stops"
else
  # Services a crashed supervisor (or an older `up`) left behind are stopped first.
  "$REPO_ROOT/infra/scripts/down.sh" --services-only
  # Readiness is asked of the port: whatever answers there must be what this run started.
  for name in "${SERVICES[@]}"; do
    port="$(port_of "$name")"
    if (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then
      die "$HOST:$port ($name) is already in use by a process this checkout did not start; stop it or set ${name^^}_PORT"
    fi
  done
  log="$LOG_DIR/supervisor.log"
  [[ -f "$log" ]] && mv -f "$log" "$log.1"
  if [[ "$GATEWAY_DEV_MODE" == true ]]; then
    say "Development mode is ON (demo sign-in on the console); GATEWAY_DEV_MODE=false npm run up starts without it"
  fi
  say "Starting the supervisor and the services (logs: ${LOG_DIR#"$REPO_ROOT"/}/)"
  (
    cd "$REPO_ROOT" || exit 1
    # exec: the pid recorded below is the supervisor's own, so down.sh's signal reaches it.
    # The console's page may submit to ingest; demo sign-in only in development mode.
    INGEST_PORT="$INGEST_PORT" GATEWAY_PORT="$GATEWAY_PORT" CORRELATOR_PORT="$CORRELATOR_PORT" HOST="$HOST" \
      GATEWAY_DEV_MODE="$GATEWAY_DEV_MODE" GATEWAY_INGEST_URL="http://$HOST:$INGEST_PORT" \
      INGEST_ALLOWED_ORIGINS="http://$HOST:$GATEWAY_PORT,http://localhost:$GATEWAY_PORT" \
      exec nohup node --import tsx packages/supervisor/src/main.ts </dev/null >"$log" 2>&1
  ) &
  pid=$!
  # The start time lets down.sh tell this process from a later one that reuses its pid.
  echo "$pid $(process_start_time "$pid")" >"$SUPERVISOR_PID_FILE"
  started_supervisor=true
fi

# On failure, a supervisor this run started is stopped again; the logs stay.
abort() {
  local name="$1" reason="$2"
  echo "----- $LOG_DIR/$name.log (last 20 lines) -----" >&2
  tail -n 20 "$LOG_DIR/$name.log" >&2 || true
  $started_supervisor && { "$REPO_ROOT/infra/scripts/down.sh" --services-only >&2 || true; }
  die "$name $reason (see $LOG_DIR/$name.log; npm run status)"
}
ready() {
  node -e "fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
    .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" "$1"
}
pending=("${SERVICES[@]}")
deadline=$((SECONDS + READY_TIMEOUT))
while ((${#pending[@]} > 0)); do
  supervisor_pid >/dev/null || abort supervisor "stopped during start-up"
  still=()
  for name in "${pending[@]}"; do
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
if [[ "$GATEWAY_DEV_MODE" == true ]]; then
  SIGN_IN="sign in with a token, or as a demo organisation (development mode)"
  DEV_MODE_NOTE="
DEVELOPMENT MODE IS ON: the console offers demo sign-in, which mints tokens (never admin) without
a credential for anyone on this machine; every mint is in the audit log (token.minted).
Start without it:  GATEWAY_DEV_MODE=false npm run up
"
else
  SIGN_IN="sign in with a token"
  DEV_MODE_NOTE="
Development mode is off: no demo sign-in (it is never on when HOST is not a loopback address).
"
fi
cat <<MSG

Renkei is up.
$DEV_MODE_NOTE
  console     http://$HOST:$GATEWAY_PORT/    $SIGN_IN
  ingest      http://$HOST:$INGEST_PORT    POST /v1/reports, GET /v1/reports/:id
  gateway     http://$HOST:$GATEWAY_PORT    GET /v1/alerts, /v1/warnings, /v1/organisations, /v1/audit, WebSocket ws://$HOST:$GATEWAY_PORT/v1/stream
  correlator  http://$HOST:$CORRELATOR_PORT    GET /healthz, GET /readyz
  metrics     http://127.0.0.1:$((INGEST_PORT + 10))/metrics, :$((GATEWAY_PORT + 10)), :$((CORRELATOR_PORT + 10))    this machine only (docs/OPERATIONS.md)
  kafka       $KAFKA_BROKERS    ($KAFKA_SECURITY; docs/OPERATIONS.md "Kafka principals")
  logs        ${LOG_DIR}/
  status      npm run status    (each service's pid, uptime, restarts and readiness)

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
