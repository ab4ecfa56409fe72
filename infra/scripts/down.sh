#!/usr/bin/env bash
# Stops what `npm run up` started: the supervisor, which stops the three
# services (SIGTERM, so they drain), then the Kafka broker. `--services-only` leaves Kafka running. Nothing running
# is not an error, so running it twice is fine.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Prints the pid in the service's pid file if that process is still the one
# up.sh started: same start time, running src/main.ts in this checkout's
# service folder. A pid reused by any other process is never signalled.
service_pid() {
  local name="$1" pid_file="$RUN_DIR/$1.pid" pid="" started="" folder
  [[ -f "$pid_file" ]] || return 1
  read -r pid started <"$pid_file" || true
  [[ "$pid" =~ ^[0-9]+$ ]] && process_alive "$pid" || return 1
  [[ -z "$started" || "$(process_start_time "$pid" || true)" == "$started" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F 'src/main.ts' >/dev/null || return 1
  folder="$(cd "$REPO_ROOT/services/$name" && pwd -P)"
  [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$folder" ]] || return 1
  echo "$pid"
}

# SIGTERM, so it drains; SIGKILL if it is still there after the grace.
stop_process() { # what pid grace-seconds
  local what="$1" pid="$2" grace="$3"
  say "Stopping $what (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((grace * 5))); do process_alive "$pid" || return 0; sleep 0.2; done
  echo "$what did not stop in $grace s: killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  while process_alive "$pid"; do sleep 0.2; done
}

# The services drain at once, each within its own 20 s; the supervisor kills any later.
if pid="$(supervisor_pid)"; then stop_process "the supervisor and the services" "$pid" 40; fi
rm -f "$SUPERVISOR_PID_FILE" "$RUN_DIR/supervisor.json"

# Services left without their supervisor (it was killed) or started by an older `up`.
for name in gateway ingest correlator; do
  pid_file="$RUN_DIR/$name.pid"
  [[ -f "$pid_file" ]] || continue
  if pid="$(service_pid "$name")"; then stop_process "$name" "$pid" 20; fi
  # Stopped now, or stale: the process is gone or the pid belongs to someone else.
  rm -f "$pid_file"
done

if [[ "${1:-}" != "--services-only" ]]; then
  # kafka.sh stops only a broker it started for this state directory; a broker
  # someone else runs on the same port is left alone.
  say "Stopping Kafka"
  "$REPO_ROOT/infra/kafka/kafka.sh" stop
fi
