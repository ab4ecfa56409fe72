#!/usr/bin/env bash
# Runs every check: lint, formatting, types, unit tests, then the integration
# tests against a real Kafka broker (started here if it is not running) and the
# local PostgreSQL server. Each integration suite makes its own database and topics.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_tools
install_dependencies_if_changed
require_browser
build_console_if_changed
cd "$REPO_ROOT"

# Lint, formatting and the two type checks each use one core: they run side by
# side (and beside the broker's start when it is not running), each printed
# whole when done. Their caches live in the state folder: a fresh clone (CI)
# starts cold and gains only the parallel run; a working copy checks only what
# changed since its last run.
cache="$STATE_DIR/check-cache"
mkdir -p "$cache"

# The tests reach the shared broker as it is: secured (sasl_ssl, the default, as `npm run up`
# starts it), or plaintext if this checkout's broker was formatted so. A KAFKA_SECURITY that
# disagrees with a broker already there stops here rather than in every suite.
formatted_security="$("$REPO_ROOT/infra/kafka/kafka.sh" security 2>/dev/null || true)"
if [[ -n "$formatted_security" ]]; then
  if [[ -n "${KAFKA_SECURITY:-}" && "$KAFKA_SECURITY" != "$formatted_security" ]]; then
    die "this checkout's broker is $formatted_security, not KAFKA_SECURITY=$KAFKA_SECURITY: unset KAFKA_SECURITY, or 'npm run down && infra/kafka/kafka.sh reset' to change it"
  fi
  export KAFKA_SECURITY="$formatted_security"
else
  export KAFKA_SECURITY="${KAFKA_SECURITY:-sasl_ssl}"
fi

started_kafka=false
kafka_start=""
if ! "$REPO_ROOT/infra/kafka/kafka.sh" status >/dev/null 2>&1; then
  say "Starting Kafka for the integration tests ($KAFKA_SECURITY, beside the checks)"
  "$REPO_ROOT/infra/kafka/kafka.sh" start >"$cache/kafka-start.out" 2>&1 &
  kafka_start=$!
  started_kafka=true
else
  say "Using the running Kafka broker ($KAFKA_SECURITY)"
fi
# Leave the machine as we found it.
trap '$started_kafka && "$REPO_ROOT/infra/kafka/kafka.sh" stop >/dev/null 2>&1 || true' EXIT

say "Lint, formatting and type check"
checks=(
  "eslint|node_modules/.bin/eslint --max-warnings 0 --cache --cache-strategy content --cache-location $cache/eslint ."
  "prettier|node_modules/.bin/prettier --check --log-level warn --cache --cache-strategy content --cache-location $cache/prettier ."
  "tsc|node_modules/.bin/tsc -p tsconfig.json --incremental --tsBuildInfoFile $cache/root.tsbuildinfo"
  "tsc (console)|node_modules/.bin/tsc -p services/console/tsconfig.json --incremental --tsBuildInfoFile $cache/console.tsbuildinfo"
)
pids=()
for check in "${checks[@]}"; do
  # shellcheck disable=SC2086  # the command is word-split on purpose
  ${check#*|} >"$cache/check-${#pids[@]}.out" 2>&1 &
  pids+=("$!")
done
failed=()
for i in "${!checks[@]}"; do
  out="$cache/check-$i.out"
  if wait "${pids[$i]}"; then
    cat "$out"
  else
    echo "----- ${checks[$i]%%|*} failed -----"
    cat "$out"
    failed+=("${checks[$i]%%|*}")
  fi
done
if [[ -n "$kafka_start" ]]; then
  wait "$kafka_start" || failed+=("Kafka's start")
  cat "$cache/kafka-start.out"
fi
((${#failed[@]} == 0)) || die "failed: ${failed[*]}"

say "Unit and integration tests"
results="$STATE_DIR/test-results.json"
mkdir -p "$STATE_DIR"
status=0
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?

# One closing line any CI can read, whatever the runner printed above it.
if [[ -f "$results" ]]; then
  node -e "
    const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    // A suite whose set-up failed fails no test of its own: its tests count as skipped.
    const files = r.testResults.filter((file) => file.status === 'failed').length;
    const suites = files ? \`; \${files} test file(s) failed\` : '';
    console.log(\`tests: \${r.numPassedTests} passed, \${r.numFailedTests} failed\` + (skipped ? \`, \${skipped} skipped\` : '') + suites);
  " "$results"
fi
exit "$status"
