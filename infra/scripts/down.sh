#!/usr/bin/env bash
# Stops what `npm run up` started: the three services (SIGTERM, so they drain),
# then the Kafka broker. `--services-only` leaves Kafka running.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUN_DIR="$STATE_DIR/run"
for name in gateway ingest correlator; do
  pid_file="$RUN_DIR/$name.pid"
  [[ -f "$pid_file" ]] || continue
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    say "Stopping $name (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { echo "$name did not stop in 20 s: killing it" >&2; kill -KILL "$pid"; }
  fi
  rm -f "$pid_file"
done

if [[ "${1:-}" != "--services-only" ]]; then
  say "Stopping Kafka"
  "$REPO_ROOT/infra/kafka/kafka.sh" stop
fi
