#!/usr/bin/env bash
# Local Apache Kafka on 127.0.0.1 (KRaft, each node both broker and controller):
# one node by default, or a three-node cluster with --brokers 3 (or KAFKA_BROKER_COUNT=3).
# Jars come from Maven Central through infra/kafka/pom.xml; no Docker, only java + mvn.
#
# Usage: infra/kafka/kafka.sh {fetch|format|start|stop|restart|status|logs|reset|brokers|security} [--brokers 1|3]
#        infra/kafka/kafka.sh {start-node|stop-node|kill-node} N   (one node of a running cluster)
#
# Env: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), RENKEI_STATE_DIR (<repo>/.renkei),
#      KAFKA_BROKER_COUNT (1; node N of a cluster listens on KAFKA_PORT+2(N-1), controller KAFKA_CONTROLLER_PORT+2(N-1)),
#      KAFKA_STATE_DIR (data, logs and pid of this broker; <RENKEI_STATE_DIR>/kafka),
#      KAFKA_BROKER_SESSION_TIMEOUT_MS (4000), KAFKA_BROKER_HEARTBEAT_MS (1000),
#      KAFKA_VERSION (from pom.xml), JAVA_HOME, KAFKA_HEAP_OPTS (-Xms256m -Xmx512m),
#      KAFKA_JVM_OPTS (extra JVM flags), KAFKA_START_TIMEOUT (90 s), KAFKA_STOP_TIMEOUT (30 s),
#      KAFKA_SECURITY (sasl_ssl | plaintext; sasl_ssl): sasl_ssl serves clients TLS + SCRAM-SHA-512
#        with ACLs, from a local CA in KAFKA_TLS_DIR (<RENKEI_STATE_DIR>/kafka-tls) and passwords in
#        KAFKA_CREDENTIALS_DIR (<RENKEI_STATE_DIR>/kafka-credentials), both made on first format;
#        plaintext only when asked for, for development (anyone who reaches the port may do anything),
#      KAFKA_TLS_HOSTNAMES (extra DNS names for the broker certificate, comma-separated).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
POM="$SCRIPT_DIR/pom.xml"

pom_kafka_version() {
  sed -n 's:.*<kafka\.version>\([^<]*\)</kafka\.version>.*:\1:p' "$POM" | head -n 1
}

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
RENKEI_STATE_DIR="${RENKEI_STATE_DIR:-$REPO_ROOT/.renkei}"
KAFKA_VERSION="${KAFKA_VERSION:-$(pom_kafka_version)}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
# A killed node is fenced (out of every ISR, its leaderships moved) this long after its last
# heartbeat; Kafka's own defaults are 9000 / 2000. See README.md for why these are shorter.
KAFKA_BROKER_SESSION_TIMEOUT_MS="${KAFKA_BROKER_SESSION_TIMEOUT_MS:-4000}"
KAFKA_BROKER_HEARTBEAT_MS="${KAFKA_BROKER_HEARTBEAT_MS:-1000}"
# Secured unless asked otherwise; whether it was asked decides what a mismatch with a formatted
# state dir says (require_security).
KAFKA_SECURITY_GIVEN="${KAFKA_SECURITY:+yes}"
KAFKA_SECURITY="${KAFKA_SECURITY:-sasl_ssl}"
KAFKA_TLS_DIR="${KAFKA_TLS_DIR:-$RENKEI_STATE_DIR/kafka-tls}"
KAFKA_CREDENTIALS_DIR="${KAFKA_CREDENTIALS_DIR:-$RENKEI_STATE_DIR/kafka-credentials}"
KAFKA_TLS_HOSTNAMES="${KAFKA_TLS_HOSTNAMES:-}"

ACTION="${1:-}"
shift || true
NODE_ARG=""
while (($# > 0)); do
  case "$1" in
    --brokers) KAFKA_BROKER_COUNT="${2:-}"; shift 2 ;;
    --brokers=*) KAFKA_BROKER_COUNT="${1#--brokers=}"; shift ;;
    [0-9]*) NODE_ARG="$1"; shift ;;
    *) echo "kafka.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [[ -z "$KAFKA_VERSION" ]]; then
  echo "kafka.sh: could not read <kafka.version> from $POM (set KAFKA_VERSION)" >&2
  exit 2
fi

# The jars are shared by every broker of this checkout; data, logs and the pid
# live in KAFKA_STATE_DIR, so a test can run a private broker beside the shared one.
LIBS="$RENKEI_STATE_DIR/kafka/libs-$KAFKA_VERSION"
BASE_STATE="${KAFKA_STATE_DIR:-$RENKEI_STATE_DIR/kafka}"
LIBS_MARKER="$LIBS/.complete"
# The security a state dir was formatted with: SCRAM credentials exist only if it was sasl_ssl.
SECURITY_FILE="$BASE_STATE/security"
LOG4J_CONF="$SCRIPT_DIR/log4j2.properties"
HOST=127.0.0.1
# How many nodes the last `start` ran, so stop and status need not be told again.
COUNT_FILE="$BASE_STATE/brokers"

# One node stays the layout it always was (state directly in BASE_STATE); a
# cluster's node N keeps its own under BASE_STATE/node-N.
select_node() { # node count
  NODE_ID="$1"
  NODE_COUNT="$2"
  if ((NODE_COUNT == 1)); then STATE="$BASE_STATE"; else STATE="$BASE_STATE/node-$NODE_ID"; fi
  NODE_PORT=$((KAFKA_PORT + 2 * (NODE_ID - 1)))
  NODE_CONTROLLER_PORT=$((KAFKA_CONTROLLER_PORT + 2 * (NODE_ID - 1)))
  DATA_DIR="$STATE/data"
  LOG_DIR="$STATE/logs"
  SERVER_LOG="$LOG_DIR/server.log"
  OUT_LOG="$LOG_DIR/kafka.out"
  PID_FILE="$STATE/kafka.pid"
  PROPS="$STATE/server.properties"
  JAVA_BASE=(-Djava.awt.headless=true "-Dlog4j2.configurationFile=$LOG4J_CONF" "-Dkafka.logs.dir=$LOG_DIR")
}

# The count asked for, else the one last started, else one.
broker_count() {
  local count="${KAFKA_BROKER_COUNT:-}"
  [[ -z "$count" && -f "$COUNT_FILE" ]] && count="$(cat "$COUNT_FILE")"
  count="${count:-1}"
  [[ "$count" == 1 || "$count" == 3 ]] || die "KAFKA_BROKER_COUNT (--brokers) must be 1 or 3, not $count"
  echo "$count"
}

# The client addresses of every node, as KAFKA_BROKERS wants them.
broker_list() { # count
  local i list=""
  for ((i = 1; i <= $1; i++)); do list+="${list:+,}$HOST:$((KAFKA_PORT + 2 * (i - 1)))"; done
  echo "$list"
}

if [[ -n "${JAVA_HOME:-}" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA="java"; fi

log() { echo "kafka.sh: $*"; }
die() { echo "kafka.sh: ERROR: $*" >&2; exit 1; }
# The CA, the passwords and the rendered properties, shared with Docker Compose's nodes.
# shellcheck source=infra/kafka/lib.sh
source "$SCRIPT_DIR/lib.sh"

require_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found (JAVA_HOME=${JAVA_HOME:-unset})"
  local major
  major="$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1)"
  if [[ "${KAFKA_VERSION%%.*}" -ge 4 && -n "$major" && "$major" -lt 17 ]]; then
    die "Kafka $KAFKA_VERSION needs Java 17+, but $JAVA is Java $major"
  fi
}

port_open() { # port -> 0 if something accepts TCP connections on 127.0.0.1:port
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# Prints the broker pid if a broker started by this script (for this state dir) is alive.
running_pid() {
  local pid=""
  if [[ -f "$PID_FILE" ]]; then
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
       && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F "kafka.Kafka $PROPS" >/dev/null; then
      echo "$pid"; return 0
    fi
  fi
  # Pid file lost: look for our own broker by its exact properties path.
  pid="$(pgrep -f "kafka\.Kafka $PROPS\$" 2>/dev/null | head -n 1 || true)"
  if [[ -n "$pid" ]]; then echo "$pid" >"$PID_FILE"; echo "$pid"; return 0; fi
  return 1
}

# Port the broker of this state dir was started with (from the rendered properties).
props_port() {
  sed -n 's|^advertised\.listeners=[A-Z_]*://[^:]*:\([0-9]*\).*|\1|p' "$PROPS" 2>/dev/null | head -n 1
}

# The security this state dir was formatted with; nothing if it was not formatted yet.
# A data dir formatted before the file existed was formatted plaintext.
formatted_security() {
  if [[ -f "$SECURITY_FILE" ]]; then cat "$SECURITY_FILE"
  elif [[ -f "$DATA_DIR/meta.properties" ]]; then echo plaintext; fi
}

require_security() {
  case "$KAFKA_SECURITY" in
    plaintext | sasl_ssl) ;;
    *) die "KAFKA_SECURITY must be plaintext or sasl_ssl, not $KAFKA_SECURITY" ;;
  esac
  local formatted
  formatted="$(formatted_security)"
  [[ -z "$formatted" || "$formatted" == "$KAFKA_SECURITY" ]] && return 0
  if [[ -z "$KAFKA_SECURITY_GIVEN" && "$formatted" == plaintext ]]; then
    die "$BASE_STATE was formatted plaintext (the default before sasl_ssl); '$0 reset' formats it secured (its topics and messages are deleted), or KAFKA_SECURITY=plaintext keeps it, for development only"
  fi
  die "$BASE_STATE was formatted with KAFKA_SECURITY=$formatted; run '$0 reset' to change it to $KAFKA_SECURITY"
}

cmd_fetch() {
  if [[ -f "$LIBS_MARKER" ]]; then return 0; fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found"
  log "fetching Kafka $KAFKA_VERSION jars into $LIBS (Maven, cached in ~/.m2)"
  rm -rf "$LIBS"
  mkdir -p "$LIBS" "$STATE"
  local fetch_log="$STATE/fetch-$KAFKA_VERSION.log"
  if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
        -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$LIBS" -DincludeScope=runtime \
        >"$fetch_log" 2>&1; then
    tail -n 40 "$fetch_log" >&2
    rm -rf "$LIBS"
    die "mvn could not fetch Kafka $KAFKA_VERSION (full output: $fetch_log)"
  fi
  ls "$LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || { rm -rf "$LIBS"; die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"; }
  date -u +%FT%TZ >"$LIBS_MARKER"
}

render_props() {
  mkdir -p "$STATE" "$DATA_DIR" "$LOG_DIR"
  local voters="" i replicas=1 min_isr=1
  for ((i = 1; i <= NODE_COUNT; i++)); do voters+="${voters:+,}$i@$HOST:$((KAFKA_CONTROLLER_PORT + 2 * (i - 1)))"; done
  # Three nodes: every partition on all three, and a write acknowledged by two,
  # so any one node can die without losing an acknowledged report or stopping writes.
  if ((NODE_COUNT >= 3)); then replicas=3; min_isr=2; fi
  render_node_properties "$PROPS" "$HOST" "$HOST" "$NODE_ID" "$NODE_PORT" "$NODE_CONTROLLER_PORT" \
    "$voters" "$replicas" "$min_isr" "$DATA_DIR"
}

cmd_format() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then return 0; fi
  require_java
  cmd_fetch
  if [[ "$KAFKA_SECURITY" == sasl_ssl ]]; then ensure_tls; ensure_credentials; fi
  render_props
  # Every node of a cluster is formatted with the same cluster id.
  local cluster_id cluster_file="$BASE_STATE/cluster-id"
  if ((NODE_COUNT > 1)) && [[ -f "$cluster_file" ]]; then
    cluster_id="$(cat "$cluster_file")"
  else
    cluster_id="$("$JAVA" "${JAVA_BASE[@]}" -cp "$LIBS/*" kafka.tools.StorageTool random-uuid | tail -n 1)"
    ((NODE_COUNT > 1)) && echo "$cluster_id" >"$cluster_file"
  fi
  [[ -n "$cluster_id" ]] || die "could not generate a cluster id"
  log "formatting $DATA_DIR (cluster id $cluster_id, KAFKA_SECURITY=$KAFKA_SECURITY)"
  scram_format_args
  "$JAVA" "${JAVA_BASE[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format \
      -t "$cluster_id" -c "$PROPS" --ignore-formatted "${SCRAM_ARGS[@]}" >>"$LOG_DIR/format.log" 2>&1 \
    || { tail -n 30 "$LOG_DIR/format.log" >&2; die "kafka-storage format failed"; }
  echo "$KAFKA_SECURITY" >"$SECURITY_FILE"
}

# Prints to stderr what this start attempt wrote to the server log and to the JVM's stdout/stderr.
show_startup_logs() { # server_log_offset out_log_offset
  local f off n from size pair
  for pair in "$SERVER_LOG:$1:40" "$OUT_LOG:$2:20"; do
    IFS=: read -r f off n <<<"$pair"
    [[ -f "$f" ]] || continue
    size="$(stat -c %s "$f")"; from=$((off + 1)); ((size < off)) && from=1
    echo "----- $f (this start, last $n lines) -----" >&2
    tail -c +"$from" "$f" | tail -n "$n" >&2 || true
  done
}

# Starts this node's JVM and returns; `wait_node` waits for it. A cluster's
# nodes are all launched before any is waited for: none is ready before a
# quorum of controllers is up.
launch_node() {
  local pid
  LAUNCHED_PID=""
  if pid="$(running_pid)"; then
    local port; port="$(props_port)"
    if [[ -n "$port" && "$port" != "$NODE_PORT" ]]; then
      die "the broker of $STATE is already running (pid $pid) on $HOST:$port, not on the requested port $NODE_PORT; run '$0 stop' first"
    fi
    # Clients configured for one security cannot talk to a broker running the other.
    require_security
    log "already running (pid $pid) on $HOST:${port:-$NODE_PORT}"
    return 0
  fi
  if port_open "$NODE_PORT"; then
    log "something already answers on $HOST:$NODE_PORT (not started by this script for $STATE); assuming a broker is running"
    return 0
  fi
  if port_open "$NODE_CONTROLLER_PORT"; then
    die "controller port $HOST:$NODE_CONTROLLER_PORT is in use by another process (set KAFKA_CONTROLLER_PORT)"
  fi
  require_java
  require_security
  cmd_fetch
  cmd_format
  render_props

  LOG_OFFSET=0 OUT_OFFSET=0
  [[ -f "$SERVER_LOG" ]] && LOG_OFFSET="$(stat -c %s "$SERVER_LOG")"
  [[ -f "$OUT_LOG" ]] && OUT_OFFSET="$(stat -c %s "$OUT_LOG")"

  log "starting Kafka $KAFKA_VERSION node $NODE_ID on $HOST:$NODE_PORT (controller $NODE_CONTROLLER_PORT, state $STATE)"
  # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS / KAFKA_JVM_OPTS are word-split on purpose
  nohup "$JAVA" -server $KAFKA_HEAP_OPTS \
      -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
      -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
      -XX:ActiveProcessorCount="$(nproc 2>/dev/null || echo 2)" \
      "${JAVA_BASE[@]}" $KAFKA_JVM_OPTS \
      -cp "$LIBS/*" kafka.Kafka "$PROPS" </dev/null >>"$OUT_LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$LOG_OFFSET $OUT_OFFSET" >"$STATE/start-offsets"
  LAUNCHED_PID="$pid"
}

wait_node() { # pid
  local pid="$1" log_offset out_offset
  read -r log_offset out_offset <"$STATE/start-offsets"
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) started=""
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      show_startup_logs "$log_offset" "$out_offset"
      die "broker process $pid exited during startup"
    fi
    if [[ -z "$started" && -f "$SERVER_LOG" ]]; then
      local size; size="$(stat -c %s "$SERVER_LOG")"
      local from=$((log_offset + 1)); ((size < log_offset)) && from=1
      # (no grep -q: with pipefail an early exit would SIGPIPE tail and fail the pipeline)
      if tail -c +"$from" "$SERVER_LOG" | grep -F "Kafka Server started" >/dev/null; then started=1; fi
    fi
    if [[ -n "$started" ]] && port_open "$NODE_PORT"; then
      log "ready: node $NODE_ID running (pid $pid) on $HOST:$NODE_PORT"
      return 0
    fi
    sleep 0.5
  done
  show_startup_logs "$log_offset" "$out_offset"
  die "broker (pid $pid) not ready on $HOST:$NODE_PORT after ${KAFKA_START_TIMEOUT}s; it is left running, use '$0 stop'"
}

cmd_start() {
  local count i
  count="$(broker_count)"
  if [[ -f "$COUNT_FILE" && "$(cat "$COUNT_FILE")" != "$count" ]] && any_running "$(cat "$COUNT_FILE")"; then
    die "$(cat "$COUNT_FILE") broker(s) of $BASE_STATE are running; run '$0 stop' before starting $count"
  fi
  mkdir -p "$BASE_STATE"
  local -a pids=()
  for ((i = 1; i <= count; i++)); do
    select_node "$i" "$count"
    launch_node
    pids[i]="$LAUNCHED_PID"
  done
  for ((i = 1; i <= count; i++)); do
    [[ -n "${pids[i]}" ]] || continue
    select_node "$i" "$count"
    wait_node "${pids[i]}"
  done
  echo "$count" >"$COUNT_FILE"
}

any_running() { # count
  local i
  for ((i = 1; i <= $1; i++)); do
    select_node "$i" "$1"
    running_pid >/dev/null && return 0
  done
  return 1
}

# Stops this node: SIGTERM (a clean shutdown moves its partition leadership away), then SIGKILL.
stop_node() { signal_node && await_node; }

signal_node() {
  STOPPING_PID=""
  if ! STOPPING_PID="$(running_pid)"; then
    rm -f "$PID_FILE"
    if ((NODE_COUNT == 1)); then log "not running"; else log "node $NODE_ID not running"; fi
    return 1
  fi
  log "stopping broker node $NODE_ID (pid $STOPPING_PID)"
  kill -TERM "$STOPPING_PID" 2>/dev/null || true
}

await_node() {
  local pid="$STOPPING_PID" deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

# Every node this state dir has, whatever count the caller asked for: a stop must not leave one behind.
# A cluster's nodes are told together: one stopped alone waits for a controller quorum that is leaving.
cmd_stop() {
  local count i
  count="$(KAFKA_BROKER_COUNT="" broker_count)"
  local -a pids=()
  for ((i = 1; i <= count; i++)); do
    select_node "$i" "$count"
    if signal_node; then pids[i]="$STOPPING_PID"; fi
  done
  for ((i = 1; i <= count; i++)); do
    [[ -n "${pids[i]:-}" ]] || continue
    select_node "$i" "$count"
    STOPPING_PID="${pids[i]}"
    await_node
  done
}

cmd_status() {
  local count i pid port status=0
  count="$(broker_count)"
  for ((i = 1; i <= count; i++)); do
    select_node "$i" "$count"
    local label=""
    ((count > 1)) && label="node $i: "
    if pid="$(running_pid)"; then
      port="$(props_port)"; port="${port:-$NODE_PORT}"
      if port_open "$port"; then
        echo "${label}running (pid $pid) on $HOST:$port"
        continue
      fi
      echo "${label}starting or unhealthy (pid $pid), $HOST:$port not answering"
      status=1
      continue
    fi
    if port_open "$NODE_PORT"; then
      echo "${label}something answers on $HOST:$NODE_PORT, but it was not started by kafka.sh for $STATE"
    else
      echo "${label}not running"
    fi
    status=1
  done
  return "$status"
}

cmd_logs() {
  [[ -f "$SERVER_LOG" ]] || die "no log yet at $SERVER_LOG"
  if [[ -t 1 ]]; then tail -n "${LINES_TO_SHOW:-100}" -F "$SERVER_LOG"; else tail -n "${LINES_TO_SHOW:-100}" "$SERVER_LOG"; fi
}

cmd_reset() {
  local count i
  cmd_stop
  count="$(KAFKA_BROKER_COUNT="" broker_count)"
  for ((i = 1; i <= count; i++)); do
    select_node "$i" "$count"
    log "deleting $DATA_DIR, $LOG_DIR and $PROPS (jars in $LIBS are kept)"
    rm -rf "$DATA_DIR" "$LOG_DIR" "$PROPS"
  done
  # The CA, certificate and passwords stay: clients configured with them keep working.
  rm -f "$COUNT_FILE" "$BASE_STATE/cluster-id" "$SECURITY_FILE"
}

# One node of a running cluster, for fault drills: kill-node is a crash (SIGKILL), stop-node a clean stop.
one_node() {
  local count
  count="$(broker_count)"
  [[ "$NODE_ARG" =~ ^[0-9]+$ ]] && ((NODE_ARG >= 1 && NODE_ARG <= count)) || die "name a node from 1 to $count"
  select_node "$NODE_ARG" "$count"
}

INITIAL_COUNT="$(broker_count)"
select_node 1 "$INITIAL_COUNT"
case "$ACTION" in
  fetch) cmd_fetch; log "jars ready in $LIBS" ;;
  format) cmd_format ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  logs) cmd_logs ;;
  reset) cmd_reset ;;
  brokers) broker_list "$(broker_count)" ;;
  # What the state dir was formatted with (what a running broker speaks); exit 1 if not formatted.
  security) formatted="$(formatted_security)"; [[ -n "$formatted" ]] || exit 1; echo "$formatted" ;;
  start-node) one_node; launch_node; [[ -z "$LAUNCHED_PID" ]] || wait_node "$LAUNCHED_PID" ;;
  stop-node) one_node; stop_node || true ;;
  kill-node)
    one_node
    if pid="$(running_pid)"; then kill -KILL "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; log "killed node $NODE_ARG (pid $pid)"; else log "node $NODE_ARG not running"; fi ;;
  *)
    echo "usage: $0 {fetch|format|start|stop|restart|status|logs|reset|brokers|security} [--brokers 1|3]" >&2
    echo "       $0 {start-node|stop-node|kill-node} N" >&2
    exit 2 ;;
esac
