#!/usr/bin/env bash
# BenchmarkDotNet micro-benchmarks (bench/ConnText.Benchmarks, docs/performance.md "Micro-benchmarks"), with the
# machine's load average before and after, and optionally a throwaway PostgreSQL for SequencerBenchmarks.
#
#   bash bench/run-micro.sh [--postgres] [BenchmarkDotNet arguments...]    (default: --filter '*')
#   bash bench/run-micro.sh --filter '*FanOutDispatch*'
#   bash bench/run-micro.sh --postgres --filter '*Sequencer*'
#
# --postgres starts PostgreSQL on 127.0.0.1 in a temporary directory (durability off, as scripts/test.sh and
# bench/run-hub.sh do) and exports CONNTEXT_BENCH_POSTGRES for the run; without it, an already exported
# CONNTEXT_BENCH_POSTGRES is used as it is. BenchmarkDotNet writes its reports (results/*.md, *.csv) and logs to
# bench/results/micro-<UTC time>/ unless --artifacts DIR is given.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

postgres=0
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --postgres) postgres=1; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -gt 0 ] || args=(--filter '*')
case " ${args[*]} " in
  *" --artifacts "*) ;;
  *) args+=(--artifacts "$(pwd)/bench/results/micro-$(date -u +%Y%m%dT%H%M%SZ)") ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/conntext-micro.XXXXXX")
chmod 755 "$tmp"
pg_data="" pg_bin=""
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then (cd "$tmp" && runuser -u postgres -- "$@"); else "$@"; fi
}
# shellcheck disable=SC2317 # via trap
cleanup() {
  if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT

free_port() {
  local port
  while :; do
    port=$(( (RANDOM * 32768 + RANDOM) % 20000 + 20000 ))
    [ -z "$(ss -ltnH "sport = :$port" 2>/dev/null)" ] && { echo "$port"; return; }
  done
}

if [ "$postgres" -eq 1 ]; then
  pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  [ -x "$pg_bin/initdb" ] || { echo "PostgreSQL is not installed (bash scripts/test.sh installs it)" >&2; exit 1; }
  pg_data="$tmp/pg/data"
  mkdir -p "$pg_data" "$tmp/pg/sock"
  pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  echo "$pw" >"$tmp/pg/pwfile"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$tmp/pg"
  chmod 700 "$pg_data"
  as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres --pwfile="$tmp/pg/pwfile" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  cat >>"$pg_data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp/pg/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  port=$(free_port)
  as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$tmp/pg/log" -o "-p $port" -w -t 60 start >/dev/null
  export CONNTEXT_BENCH_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Password=$pw;Database=postgres"
  echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (fsync off)"
fi

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(date -u +%H:%M:%SZ))"
dotnet run -c Release --project bench/ConnText.Benchmarks -- "${args[@]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) ($(date -u +%H:%M:%SZ))"
