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

say "Lint and formatting"
node_modules/.bin/eslint --max-warnings 0 .
node_modules/.bin/prettier --check --log-level warn .

say "Type check"
node_modules/.bin/tsc -p tsconfig.json
node_modules/.bin/tsc -p services/console/tsconfig.json

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
if ! "$REPO_ROOT/infra/kafka/kafka.sh" status >/dev/null 2>&1; then
  say "Starting Kafka for the integration tests ($KAFKA_SECURITY)"
  "$REPO_ROOT/infra/kafka/kafka.sh" start
  started_kafka=true
else
  say "Using the running Kafka broker ($KAFKA_SECURITY)"
fi
# Leave the machine as we found it.
trap '$started_kafka && "$REPO_ROOT/infra/kafka/kafka.sh" stop >/dev/null 2>&1 || true' EXIT

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
    console.log(\`tests: \${r.numPassedTests} passed, \${r.numFailedTests} failed\` + (skipped ? \`, \${skipped} skipped\` : ''));
  " "$results"
fi
exit "$status"
