# Shared by up.sh, down.sh and test.sh. Sourced, not run.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE_DIR="${RENKEI_STATE_DIR:-$REPO_ROOT/.renkei}"
RUN_DIR="$STATE_DIR/run"   # <service>.pid: "<pid> <start time>", written by up.sh
LOG_DIR="$STATE_DIR/logs"  # <service>.log for the current run, <service>.log.1 for the one before
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$REPO_ROOT/package.json")"

# One variable names the broker list: KAFKA_BROKERS, read by the services and the CLI.
# KAFKA_PORT is where kafka.sh starts the local broker; given alone, it names the list too,
# so the services and the CLI reach the broker this run started rather than the default one.
# up.sh asks kafka.sh for the whole list when it was not given (three brokers).
KAFKA_BROKERS_GIVEN="${KAFKA_BROKERS:+yes}"
if [[ -z "${KAFKA_BROKERS:-}" && -n "${KAFKA_PORT:-}" ]]; then
  export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
fi

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_tools() {
  command -v node >/dev/null || die "Node.js 20 or newer is needed"
  local node_major
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  [[ "$node_major" -ge 20 ]] || die "Node.js 20 or newer is needed (found $(node --version))"
  command -v npm >/dev/null || die "npm is needed (it comes with Node.js)"
  command -v java >/dev/null || die "Java 17 or newer is needed to run the Kafka broker"
  command -v mvn >/dev/null || die "Maven is needed to fetch the Kafka broker"
}

# pnpm is pinned in package.json. Use it when installed at that version,
# otherwise run that exact version through npx: nothing to install globally.
pnpm_cmd() {
  if command -v pnpm >/dev/null && [[ "$(pnpm --version 2>/dev/null)" == "$PNPM_VERSION" ]]; then
    pnpm "$@"
  else
    npx --yes "pnpm@$PNPM_VERSION" "$@"
  fi
}

install_dependencies() {
  say "Installing dependencies (pnpm $PNPM_VERSION)"
  (cd "$REPO_ROOT" && pnpm_cmd install --frozen-lockfile --reporter=append-only) | grep -v '^Progress' || true
  [[ -x "$REPO_ROOT/node_modules/.bin/tsx" ]] || die "pnpm install did not complete"
}

# A digest of the files whose change means work to redo; prints nothing for no files.
inputs_digest() {
  (cd "$REPO_ROOT" && find "$@" -type f ! -path '*/node_modules/*' ! -path '*/dist/*' -print0 2>/dev/null |
    sort -z | xargs -0 -r sha256sum | sha256sum | cut -d' ' -f1)
}

# What install reads: the lockfile and every manifest. The stamp lives inside
# node_modules, so removing node_modules also forgets it.
INSTALL_STAMP="$REPO_ROOT/node_modules/.renkei-install-stamp"
install_inputs() { inputs_digest package.json pnpm-lock.yaml pnpm-workspace.yaml packages/*/package.json services/*/package.json; }

# `npm run up` on a hub that is already there skips what has not changed.
install_dependencies_if_changed() {
  local digest
  digest="$(install_inputs)"
  if [[ -x "$REPO_ROOT/node_modules/.bin/tsx" && -f "$INSTALL_STAMP" && "$(cat "$INSTALL_STAMP")" == "$digest" ]]; then
    say "Dependencies unchanged since the last install"
    return
  fi
  install_dependencies
  echo "$digest" >"$INSTALL_STAMP"
}

# The console's static files, which the gateway serves at `/` (services/console/dist).
build_console() {
  say "Building the console"
  (cd "$REPO_ROOT/services/console" && "$REPO_ROOT/node_modules/.bin/vite" build --logLevel error) ||
    die "could not build the console (services/console)"
}

# The console bundles its own sources and the shared packages' (the report form uses the schema).
CONSOLE_STAMP="$REPO_ROOT/services/console/dist/.renkei-build-stamp"
console_inputs() { inputs_digest services/console packages/*/src pnpm-lock.yaml; }

build_console_if_changed() {
  local digest
  digest="$(console_inputs)"
  if [[ -f "$REPO_ROOT/services/console/dist/index.html" && -f "$CONSOLE_STAMP" && "$(cat "$CONSOLE_STAMP")" == "$digest" ]]; then
    say "Console unchanged since the last build"
    return
  fi
  build_console
  echo "$digest" >"$CONSOLE_STAMP"
}

# The browser tests drive Debian's chromium package: installed here when missing,
# never a browser build downloaded by a test tool.
require_browser() {
  # The CJK fonts too: without them every Japanese glyph in a screenshot is a box.
  if [[ -x /usr/bin/chromium ]] && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then return; fi
  say "Installing chromium and fonts-noto-cjk for the browser tests"
  local sudo=""
  [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
  command -v apt-get >/dev/null || die "chromium is needed for the browser tests (install the chromium package)"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-noto-cjk >/dev/null ||
    die "could not install chromium and fonts-noto-cjk (apt-get install chromium fonts-noto-cjk)"
}

# A process's start time (clock ticks since boot, field 22 of /proc/<pid>/stat).
# A pid can be reused by a later process; pid and start time together cannot.
process_start_time() {
  local stat fields
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }" # the command name in field 2 may hold spaces and parentheses
  read -ra fields <<<"$stat"
  echo "${fields[19]}"
}

# Alive, and not a zombie waiting to be reaped.
process_alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

SUPERVISOR_PID_FILE="$RUN_DIR/supervisor.pid"

# The supervisor's pid if the process in its pid file is still the one up.sh
# started (same start time, the supervisor's entry point, this checkout).
supervisor_pid() {
  local pid="" started=""
  [[ -f "$SUPERVISOR_PID_FILE" ]] || return 1
  read -r pid started <"$SUPERVISOR_PID_FILE" || true
  [[ "$pid" =~ ^[0-9]+$ ]] && process_alive "$pid" || return 1
  [[ -z "$started" || "$(process_start_time "$pid" || true)" == "$started" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F 'packages/supervisor/src/main.ts' >/dev/null || return 1
  [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$(cd "$REPO_ROOT" && pwd -P)" ]] || return 1
  echo "$pid"
}
