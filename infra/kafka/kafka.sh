#!/usr/bin/env bash
# Local single-node Apache Kafka broker (KRaft, combined broker+controller) on 127.0.0.1.
# Jars come from Maven Central through infra/kafka/pom.xml; no Docker, only java + mvn.
#
# Usage: infra/kafka/kafka.sh {fetch|format|start|stop|restart|status|logs|reset}
#
# Env: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), RENKEI_STATE_DIR (<repo>/.renkei),
#      KAFKA_STATE_DIR (data, logs and pid of this broker; <RENKEI_STATE_DIR>/kafka),
#      KAFKA_VERSION (from pom.xml), JAVA_HOME, KAFKA_HEAP_OPTS (-Xms256m -Xmx512m),
#      KAFKA_JVM_OPTS (extra JVM flags), KAFKA_START_TIMEOUT (90 s), KAFKA_STOP_TIMEOUT (30 s).
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

if [[ -z "$KAFKA_VERSION" ]]; then
  echo "kafka.sh: could not read <kafka.version> from $POM (set KAFKA_VERSION)" >&2
  exit 2
fi

# The jars are shared by every broker of this checkout; data, logs and the pid
# live in KAFKA_STATE_DIR, so a test can run a private broker beside the shared one.
LIBS="$RENKEI_STATE_DIR/kafka/libs-$KAFKA_VERSION"
STATE="${KAFKA_STATE_DIR:-$RENKEI_STATE_DIR/kafka}"
LIBS_MARKER="$LIBS/.complete"
DATA_DIR="$STATE/data"
LOG_DIR="$STATE/logs"
SERVER_LOG="$LOG_DIR/server.log"
OUT_LOG="$LOG_DIR/kafka.out"
PID_FILE="$STATE/kafka.pid"
PROPS="$STATE/server.properties"
TEMPLATE="$SCRIPT_DIR/server.properties.template"
LOG4J_CONF="$SCRIPT_DIR/log4j2.properties"
HOST=127.0.0.1

if [[ -n "${JAVA_HOME:-}" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA="java"; fi

log() { echo "kafka.sh: $*"; }
die() { echo "kafka.sh: ERROR: $*" >&2; exit 1; }

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
  sed -n 's|^advertised\.listeners=PLAINTEXT://[^:]*:\([0-9]*\).*|\1|p' "$PROPS" 2>/dev/null | head -n 1
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
  sed -e "s|@PORT@|$KAFKA_PORT|g" \
      -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@DATA_DIR@|$DATA_DIR|g" "$TEMPLATE" >"$PROPS.tmp"
  mv "$PROPS.tmp" "$PROPS"
}

# Common JVM flags for the tools and the broker (an array, so paths with spaces survive).
JAVA_BASE=(-Djava.awt.headless=true "-Dlog4j2.configurationFile=$LOG4J_CONF" "-Dkafka.logs.dir=$LOG_DIR")

cmd_format() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then return 0; fi
  require_java
  cmd_fetch
  render_props
  local cluster_id
  cluster_id="$("$JAVA" "${JAVA_BASE[@]}" -cp "$LIBS/*" kafka.tools.StorageTool random-uuid | tail -n 1)"
  [[ -n "$cluster_id" ]] || die "could not generate a cluster id"
  log "formatting $DATA_DIR (cluster id $cluster_id)"
  "$JAVA" "${JAVA_BASE[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format \
      -t "$cluster_id" -c "$PROPS" --ignore-formatted >>"$LOG_DIR/format.log" 2>&1 \
    || { tail -n 30 "$LOG_DIR/format.log" >&2; die "kafka-storage format failed"; }
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

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    local port; port="$(props_port)"
    if [[ -n "$port" && "$port" != "$KAFKA_PORT" ]]; then
      die "the broker of $STATE is already running (pid $pid) on $HOST:$port, not on the requested port $KAFKA_PORT; run '$0 stop' first"
    fi
    log "already running (pid $pid) on $HOST:${port:-$KAFKA_PORT}"
    return 0
  fi
  if port_open "$KAFKA_PORT"; then
    log "something already answers on $HOST:$KAFKA_PORT (not started by this script for $STATE); assuming a broker is running"
    return 0
  fi
  if port_open "$KAFKA_CONTROLLER_PORT"; then
    die "controller port $HOST:$KAFKA_CONTROLLER_PORT is in use by another process (set KAFKA_CONTROLLER_PORT)"
  fi
  require_java
  cmd_fetch
  cmd_format
  render_props

  local log_offset=0 out_offset=0
  [[ -f "$SERVER_LOG" ]] && log_offset="$(stat -c %s "$SERVER_LOG")"
  [[ -f "$OUT_LOG" ]] && out_offset="$(stat -c %s "$OUT_LOG")"

  log "starting Kafka $KAFKA_VERSION on $HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT, state $STATE)"
  # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS / KAFKA_JVM_OPTS are word-split on purpose
  nohup "$JAVA" -server $KAFKA_HEAP_OPTS \
      -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
      -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
      -XX:ActiveProcessorCount="$(nproc 2>/dev/null || echo 2)" \
      "${JAVA_BASE[@]}" $KAFKA_JVM_OPTS \
      -cp "$LIBS/*" kafka.Kafka "$PROPS" </dev/null >>"$OUT_LOG" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"

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
    if [[ -n "$started" ]] && port_open "$KAFKA_PORT"; then
      log "ready: running (pid $pid) on $HOST:$KAFKA_PORT"
      return 0
    fi
    sleep 0.5
  done
  show_startup_logs "$log_offset" "$out_offset"
  die "broker (pid $pid) not ready on $HOST:$KAFKA_PORT after ${KAFKA_START_TIMEOUT}s; it is left running, use '$0 stop'"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid port
  if pid="$(running_pid)"; then
    port="$(props_port)"; port="${port:-$KAFKA_PORT}"
    if port_open "$port"; then
      echo "running (pid $pid) on $HOST:$port"
      return 0
    fi
    echo "starting or unhealthy (pid $pid), $HOST:$port not answering"
    return 1
  fi
  if port_open "$KAFKA_PORT"; then
    echo "something answers on $HOST:$KAFKA_PORT, but it was not started by kafka.sh for $STATE"
    return 1
  fi
  echo "not running"
  return 1
}

cmd_logs() {
  [[ -f "$SERVER_LOG" ]] || die "no log yet at $SERVER_LOG"
  if [[ -t 1 ]]; then tail -n "${LINES_TO_SHOW:-100}" -F "$SERVER_LOG"; else tail -n "${LINES_TO_SHOW:-100}" "$SERVER_LOG"; fi
}

cmd_reset() {
  cmd_stop
  log "deleting $DATA_DIR, $LOG_DIR and $PROPS (jars in $LIBS are kept)"
  rm -rf "$DATA_DIR" "$LOG_DIR" "$PROPS"
}

case "${1:-}" in
  fetch) cmd_fetch; log "jars ready in $LIBS" ;;
  format) cmd_format ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  logs) cmd_logs ;;
  reset) cmd_reset ;;
  *)
    echo "usage: $0 {fetch|format|start|stop|restart|status|logs|reset}" >&2
    exit 2 ;;
esac
