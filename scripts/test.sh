#!/usr/bin/env bash
# Runs every test of ConnText on a fresh Debian machine that has only the .NET 10 SDK.
# Installs missing system packages, starts throwaway services, builds, runs `dotnet test`,
# and always ends with exactly one line: "N passed, N failed, N skipped".
# Extra arguments are passed to `dotnet test` (e.g. --filter X).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# ---------------------------------------------------------------- summary / cleanup
tmp=""
pg_data=""
pg_bin=""
summary_printed=0

summary() { # passed failed skipped; must be the very last line of output
  echo "$1 passed, $2 failed, $3 skipped"
  summary_printed=1
}

# Run a PostgreSQL binary; postgres refuses to run as root, so drop to the postgres user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$tmp" && runuser -u postgres -- "$@") # cwd must be readable by postgres
  else
    "$@"
  fi
}

# shellcheck disable=SC2317 # only invoked via trap
cleanup() {
  # Silent on purpose: nothing may be printed after the summary line.
  if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true
    # Fallback: kill the postmaster we started (by pid) if pg_ctl could not.
    if [ -f "$pg_data/postmaster.pid" ]; then
      kill -9 "$(head -n1 "$pg_data/postmaster.pid")" >/dev/null 2>&1 || true
    fi
  fi
  if [ -n "$tmp" ] && [ -f "$tmp/redis/redis.pid" ]; then
    kill "$(cat "$tmp/redis/redis.pid")" >/dev/null 2>&1 || true
  fi
  [ -n "$tmp" ] && rm -rf "$tmp"
  # Early failure (apt, postgres, ...): still honour the "last line is the summary" contract.
  if [ "$summary_printed" -eq 0 ]; then summary 0 1 0; fi
}
trap cleanup EXIT
trap 'exit 130' INT   # exit runs the EXIT trap, so cleanup happens exactly once
trap 'exit 143' TERM

die() { echo "ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------- system packages
apt_updated=0
# ensure_pkg <command-or-path-glob> <apt package>: install the package only if the check fails.
# A check containing '/' is a path glob, otherwise a command name looked up on PATH.
ensure_pkg() {
  local check=$1 pkg=$2
  if [[ $check == */* ]]; then
    compgen -G "$check" >/dev/null && return 0
  else
    command -v "$check" >/dev/null && return 0
  fi
  echo "Installing $pkg (missing: $check)"
  if [ "$apt_updated" -eq 0 ]; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg"
}

if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  # Fresh install: stop the Debian package from creating/starting its own "main" cluster
  # on port 5432 — we only want our throwaway server.
  ensure_pkg pg_createcluster postgresql-common
  $SUDO sed -ri 's/^#?create_main_cluster = true/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
fi
ensure_pkg '/usr/lib/postgresql/*/bin/initdb' postgresql
# The browser tests (tests/ConnText.Browser.Tests) drive Debian's Chromium through Playwright; no browser is downloaded.
ensure_pkg chromium chromium
# The two-node tests share one Redis between server processes (SignalR backplane, realtime events, presence).
ensure_pkg redis-server redis-server
# Calls: the TURN tests start their own coturn instances (scripts/coturn.sh) and drive them with
# turnutils_uclient / turnutils_peer (same package) inside network namespaces they create (unshare, ip).
ensure_pkg turnserver coturn
ensure_pkg ip iproute2
ensure_pkg unshare util-linux
# Desktop notifications: the tests start their own X server, session bus and notification daemon, and watch the bus.
ensure_pkg Xvfb xvfb
ensure_pkg dbus-daemon dbus-daemon
ensure_pkg dbus-monitor dbus-bin
ensure_pkg dunst dunst
# The Debian package may have started a system-wide coturn on 3478; the tests never use it.

# ---------------------------------------------------------------- temp dir
tmp=$(mktemp -d "${TMPDIR:-/tmp}/conntext-test.XXXXXX")
chmod 755 "$tmp" # the postgres user must be able to reach its data/socket dirs

# ---------------------------------------------------------------- PostgreSQL
pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1) # newest major
pg_data="$tmp/pg/data"
pg_sock="$tmp/pg/sock"
pg_log="$tmp/pg/log"
mkdir -p "$pg_data" "$pg_sock"
pg_pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n') # hex: safe inside a connection string
echo "$pg_pw" >"$tmp/pg/pwfile"
[ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$tmp/pg"
chmod 700 "$pg_data"

as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres --pwfile="$tmp/pg/pwfile" -A scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 --no-sync >"$tmp/initdb.log" 2>&1 \
  || { cat "$tmp/initdb.log" >&2; die "initdb failed"; }
rm -f "$tmp/pg/pwfile"

# Throwaway server: durability off for speed, reachable only from this machine.
cat >>"$pg_data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$pg_sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
CONF

port_in_use() {
  if command -v ss >/dev/null; then
    [ -n "$(ss -ltnH "sport = :$1")" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null # connect succeeds => someone listens
  fi
}

# Pick a random free port; retry because another process may grab it before postgres binds.
pg_port=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
  port=$(( (RANDOM * 32768 + RANDOM) % 40001 + 20000 ))
  port_in_use "$port" && continue
  if as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_log" -o "-p $port" -w -t 60 start >/dev/null 2>&1; then
    pg_port=$port
    break
  fi
  as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true
done
if [ -z "$pg_port" ]; then
  echo "PostgreSQL failed to start; last lines of its log:" >&2
  tail -n 40 "$pg_log" >&2 || true
  die "could not start PostgreSQL"
fi
echo "$("$pg_bin/postgres" --version) listening on 127.0.0.1:$pg_port"

# Tests create their own databases with this.
export CONNTEXT_TEST_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Password=$pg_pw;Include Error Detail=true"
# The browser tests launch this Chromium (headless, one fresh context per test).
export CONNTEXT_TEST_CHROMIUM=/usr/bin/chromium
# The TURN tests start coturn through the shipped script (hardened config, or its test profile).
export CONNTEXT_TEST_COTURN="$PWD/scripts/coturn.sh"
CONNTEXT_TEST_TURNSERVER=$(command -v turnserver)
export CONNTEXT_TEST_TURNSERVER

# ---------------------------------------------------------------- Redis
# Throwaway, loopback only, no persistence; stopped by the cleanup trap (its pid file lives in $tmp).
redis_dir="$tmp/redis"
mkdir -p "$redis_dir"
redis_port=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
  port=$(( (RANDOM * 32768 + RANDOM) % 40001 + 20000 ))
  port_in_use "$port" && continue
  if redis-server --bind 127.0.0.1 --port "$port" --dir "$redis_dir" --save '' --appendonly no \
       --daemonize yes --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log" >/dev/null 2>&1; then
    for _ in $(seq 1 50); do
      port_in_use "$port" && break
      sleep 0.1
    done
    if port_in_use "$port"; then redis_port=$port; break; fi
  fi
done
[ -n "$redis_port" ] || { tail -n 20 "$redis_dir/redis.log" >&2 || true; die "could not start Redis"; }
echo "$(redis-server --version | cut -d' ' -f1-3) listening on 127.0.0.1:$redis_port"
export CONNTEXT_TEST_REDIS="127.0.0.1:$redis_port"

# ---------------------------------------------------------------- build + test
if ! dotnet build ConnText.slnx -c Release -nologo; then
  echo "BUILD FAILED"
  summary 0 1 0
  exit 1
fi

test_rc=0
# Benchmarks written as xunit facts (Category=Benchmark, e.g. bench/calls/run.sh) are not tests: a run without
# its own --filter leaves them out; the benchmark scripts select them with a filter.
args=("$@")
case " $* " in
  *" --filter "*|*" --filter="*) ;;
  *) args+=(--filter "Category!=Benchmark") ;;
esac
# One test assembly at a time (-m:1): the desktop suite drives Chromium windows and WebRTC calls in real time, and
# beside the server suite on two cores its waits timed out now and then (sign-in, call set-up).
dotnet test ConnText.slnx -c Release --no-build -m:1 --logger "trx" --results-directory "$tmp/results" "${args[@]}" || test_rc=$?

# ---------------------------------------------------------------- results
# Sum the <Counters .../> of every .trx (one per test project).
passed=0 failed=0 skipped=0 total=0 trx_count=0
counter() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$2"; }
while IFS= read -r -d '' trx; do
  trx_count=$((trx_count + 1))
  c=$(grep -o '<Counters [^>]*>' "$trx" | head -n1 || true)
  [ -n "$c" ] || { echo "WARNING: no <Counters> in $trx"; continue; }
  t=$(counter total "$c"); e=$(counter executed "$c"); p=$(counter passed "$c")
  # Anything executed that did not pass counts as failed (failed, error, timeout, aborted...).
  total=$((total + ${t:-0}))
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${e:-0} - ${p:-0}))
  # Skipped tests are not "executed"; the notExecuted counter stays 0 for them (checked with xunit).
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done < <(find "$tmp/results" -name '*.trx' -print0 2>/dev/null)

rc=0
if [ "$test_rc" -ne 0 ]; then
  echo "dotnet test exited with code $test_rc"
  rc=1
  # e.g. a crashed test host: make sure the summary never claims a clean run.
  [ "$failed" -gt 0 ] || failed=1
fi
[ "$failed" -eq 0 ] || rc=1
if [ "$((passed + failed))" -eq 0 ]; then
  echo "No tests ran ($trx_count result files)"
  rc=1
fi
summary "$passed" "$failed" "$skipped"
exit "$rc"
