#!/usr/bin/env bash
# Hub and REST benchmarks (docs/performance.md): room fan-out on ConnText and on baseline relays in the same run (the
# Node.js `ws` relay; the same relay on Kestrel's WebSockets and as a bare SignalR hub, bench/baselines/aspnet-relay), idle connections with the server's memory per connection, REST scenarios at target rates, and chat
# delivery with and without a login storm.
#
#   bash bench/run-hub.sh [--scenario all|fanout|idle|rest|storm] [--connections 10000] [--room-size 100]
#                         [--rates 10,25,50,100,200] [--duration 20] [--warmup S] [--protocol json|messagepack]
#                         (--warmup: 20 s before a fan-out, where a freshly started server needs ~18 s to deliver the
#                         offered rate while the JIT compiles its hot paths; 5 s before REST and storm steps)
#                         [--hub-client signalr|raw] (SignalR targets: the .NET client, or SignalR's JSON protocol on
#                         a plain ClientWebSocket, as cheap on the generator's side as the relays' client)
#                         [--baselines node,aspnet-ws,signalr|none] [--postgres] [--skip-sqlite] (fan-out on PostgreSQL only, for A/B runs)
#                         [--idle-connections 19000] [--idle-gcdump] [--out DIR] [--update-docs]
#                         [--server-env 'VAR=value VAR2=value'] (environment of the ConnText server only, for A/B runs)
#                         [--gc-metrics] (fan-out and storm: the ConnText server serves its Prometheus metrics and
#                         each step also reports its garbage collections, pause time and allocation; the generator's
#                         own GC pause is always reported)
#                         [--pg-statements] (fan-out with --postgres: PostgreSQL loads pg_stat_statements; its top
#                         statements from the first hub connect to the end of the steps go to DIR/pg-statements.txt)
#                         [--rest-users 1000] [--rest-rates 20,50,100] [--login-rates 2,5,10]
#                         [--storm-connections 2000] [--storm-chat-rates 20] [--storm-rate 20] [--cold-storm]
#                         [--storm-rounds 8] [--storm-process separate|same] (steps without and with the storm alternate that many times; the ratio is
#                         taken over all deliveries of each kind, beside each round's and the quiet steps' own spread;
#                         --storm-process separate: the sign-ins come from a process of their own)
#   "all" is fanout + idle (the long hub runs); rest and storm run only when asked for.
#   --idle-gcdump: with every connection open, also takes a heap snapshot of the server with dotnet-gcdump (installed
#   as a .NET tool when missing; it runs a full GC first), keeps its report (largest types) in DIR/idle-gcdump.txt and
#   adds the server's RSS after that collection as a last point.
#
# Everything runs on loopback: the server (Release build, temporary data directory) on 127.0.0.1/127.0.0.2,
# the relay on 127.0.0.1, the load generator beside them (same cores: the CPU of each is recorded).
# Results: DIR/fanout-*.json, DIR/idle.json, DIR/summary.md (default DIR: bench/results/hub-<UTC time>).
# --update-docs copies summary.md into docs/performance.md between the hub-results markers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

scenario=all connections=10000 room_size=100 rates=10,25,50,100,200 duration=20 warmup="" protocol=json hub_client=signalr
baselines=node,aspnet-ws,signalr postgres=0 skip_sqlite=0 idle_connections=19000 idle_gcdump=0 out="" update_docs=0 server_env="" gc_metrics=0 pg_statements=0
rest_users=1000 rest_rates=20,50,100 login_rates=2,5,10 storm_connections=2000 storm_chat_rates=20 storm_rate=20 storm_warmup=true storm_rounds=8 storm_process=same
while [ $# -gt 0 ]; do
  case $1 in
    --scenario) scenario=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --room-size) room_size=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --protocol) protocol=$2; shift 2 ;;
    --hub-client) hub_client=$2; shift 2 ;;
    --postgres) postgres=1; shift ;;
    --skip-sqlite) skip_sqlite=1; shift ;;
    --baselines) baselines=$2; shift 2 ;;
    --idle-connections) idle_connections=$2; shift 2 ;;
    --idle-gcdump) idle_gcdump=1; shift ;;
    --server-env) server_env=$2; shift 2 ;;
    --gc-metrics) gc_metrics=1; shift ;;
    --pg-statements) pg_statements=1; shift ;;
    --out) out=$2; shift 2 ;;
    --update-docs) update_docs=1; shift ;;
    --rest-users) rest_users=$2; shift 2 ;;
    --rest-rates) rest_rates=$2; shift 2 ;;
    --login-rates) login_rates=$2; shift 2 ;;
    --storm-connections) storm_connections=$2; shift 2 ;;
    --storm-chat-rates) storm_chat_rates=$2; shift 2 ;;
    --storm-rate) storm_rate=$2; shift 2 ;;
    --cold-storm) storm_warmup=false; shift ;;
    --storm-rounds) storm_rounds=$2; shift 2 ;;
    --storm-process) storm_process=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
warmup_given=$warmup
fanout_warmup=${warmup:-20}
warmup=${warmup:-5}
if [ "$pg_statements" -eq 1 ] && [ "$postgres" -eq 0 ]; then
  echo "--pg-statements needs --postgres" >&2; exit 2
fi
if [ "$skip_sqlite" -eq 1 ] && [ "$postgres" -eq 0 ]; then
  echo "--skip-sqlite needs --postgres (the fan-out would run no ConnText at all)" >&2; exit 2
fi
[ -n "$out" ] || out="$root/bench/results/hub-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
out=$(cd "$out" && pwd)

# ---------------------------------------------------------------- cleanup: only what this script started
tmp=$(mktemp -d "${TMPDIR:-/tmp}/conntext-bench.XXXXXX")
chmod 755 "$tmp"
pids=()
pg_data="" pg_bin="" pg_port=""
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then (cd "$tmp" && runuser -u postgres -- "$@"); else "$@"; fi
}
stop_pid() { # stop_pid <pid>: TERM, then KILL after 10 s; only a process of this run (its command line names $tmp)
  local pid=$1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$tmp" || return 0 # gone, or the pid was reused
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317 # via trap
cleanup() {
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port below the kernel's ephemeral range, used by no socket in any state: the fan-out's 10,000 client connections
# leave their ephemeral ports in TIME_WAIT, and a listener cannot bind one of those.
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
free_port() {
  local port
  while :; do
    port=$(( (RANDOM * 32768 + RANDOM) % (ephemeral_low - 10000) + 10000 ))
    [ -z "$(ss -tanH "sport = :$port" 2>/dev/null)" ] && { echo "$port"; return; }
  done
}
wait_http() { # wait_http <url> <pid> <log>: up to 180 s (the machine may be busy), while the process lives
  for _ in $(seq 1800); do
    curl -fs -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || { echo "process $2 exited; its log:" >&2; tail -n 30 "$3" >&2; return 1; }
    sleep 0.1
  done
  echo "no answer from $1 after 180 s; log:" >&2; tail -n 30 "$3" >&2; return 1
}

# ---------------------------------------------------------------- build
echo "== Publishing the server and the load generator (Release)"
dotnet publish src/ConnText.Server -c Release -o "$tmp/server" -v q -nologo >"$tmp/publish.log" 2>&1 || { cat "$tmp/publish.log"; exit 1; }
dotnet publish bench/ConnText.LoadTest -c Release -o "$tmp/loadtest" -v q -nologo >"$tmp/publish.log" 2>&1 || { cat "$tmp/publish.log"; exit 1; }
loadtest() { dotnet "$tmp/loadtest/ConnText.LoadTest.dll" "$@"; }

# ---------------------------------------------------------------- machine
{
  echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n1)"
  echo "cores=$(nproc)"
  echo "memory=$(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
  echo "kernel=$(uname -r)"
  echo "dotnet=$(dotnet --version)"
  echo "node=$(node --version)"
  echo "loadavg_at_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "open_files_limit=$(ulimit -n)"
  case $scenario in
    rest) echo "command=bench/run-hub.sh --scenario rest --rest-users $rest_users --rest-rates $rest_rates --login-rates $login_rates --duration $duration$([ -n "$warmup_given" ] && echo " --warmup $warmup_given")$([ $postgres -eq 1 ] && echo ' --postgres')$([ -n "$server_env" ] && echo " --server-env '$server_env'")" ;;
    storm) echo "command=bench/run-hub.sh --scenario storm --storm-connections $storm_connections --room-size $room_size --storm-chat-rates $storm_chat_rates --storm-rate $storm_rate --storm-rounds $storm_rounds --storm-process $storm_process$([ $storm_warmup = false ] && echo ' --cold-storm') --duration $duration$([ -n "$warmup_given" ] && echo " --warmup $warmup_given") --protocol $protocol --hub-client $hub_client$([ $postgres -eq 1 ] && echo ' --postgres')$([ $skip_sqlite -eq 1 ] && echo ' --skip-sqlite')$([ $gc_metrics -eq 1 ] && echo ' --gc-metrics')$([ -n "$server_env" ] && echo " --server-env '$server_env'")" ;;
    *) echo "command=bench/run-hub.sh --scenario $scenario --connections $connections --room-size $room_size --rates $rates --duration $duration$([ -n "$warmup_given" ] && echo " --warmup $warmup_given") --protocol $protocol --hub-client $hub_client --baselines $baselines --idle-connections $idle_connections$([ $postgres -eq 1 ] && echo ' --postgres')$([ $skip_sqlite -eq 1 ] && echo ' --skip-sqlite')$([ $gc_metrics -eq 1 ] && echo ' --gc-metrics')$([ $pg_statements -eq 1 ] && echo ' --pg-statements')$([ -n "$server_env" ] && echo " --server-env '$server_env'")" ;;
  esac
} | tee "$out/machine-$scenario.txt"

# ---------------------------------------------------------------- ConnText server
# start_conntext <name> <users> <provider> [connection string]: migrated database, seeded users, server running.
# Sets server_pid, server_port, tokens.
start_conntext() {
  local name=$1 users=$2 provider=$3 cs=${4:-}
  local data="$tmp/$name"
  mkdir -p "$data"
  # Every request of the load generator comes from 127.0.0.1: the per-address and per-account sign-in limits
  # (ConnText:RateLimits) would otherwise turn the login scenarios into a rate-limiter benchmark.
  local settings=("--ConnText:DataDirectory=$data" "--ConnText:Database:Provider=$provider"
    "--ConnText:RateLimits:AuthPerIpPerMinute=100000" "--ConnText:RateLimits:LoginPerAccountPerMinute=10000")
  [ "$gc_metrics" -eq 1 ] && settings+=("--ConnText:Telemetry:PrometheusEnabled=true")
  if [ "$provider" = Postgres ]; then
    export ConnectionStrings__Default="$cs"
  else
    unset ConnectionStrings__Default
    cs="Data Source=$data/conntext.db"
  fi
  dotnet "$tmp/server/ConnText.Server.dll" migrate "${settings[@]}" >"$data/migrate.log" 2>&1 || { cat "$data/migrate.log"; exit 1; }
  tokens="$data/tokens.tsv"
  loadtest seed --provider "$(tr '[:upper:]' '[:lower:]' <<<"$provider")" --connection "$cs" --users "$users" \
    --room-size "$room_size" --tokens-out "$tokens" --mark-tokens-used true
  server_port=$(free_port)
  local extra_env=()
  read -r -a extra_env <<<"$server_env"
  (cd "$data" && exec env "${extra_env[@]}" dotnet "$tmp/server/ConnText.Server.dll" "${settings[@]}" \
    --urls="http://127.0.0.1:$server_port;http://127.0.0.2:$server_port" >"$data/server.log" 2>&1) &
  server_pid=$!
  pids+=("$server_pid")
  server_log="$data/server.log"
  wait_http "http://127.0.0.1:$server_port/health/live" "$server_pid" "$server_log"
  echo "ConnText ($provider) pid $server_pid on 127.0.0.1:$server_port and 127.0.0.2:$server_port"
}

stop_server() { # keeps the server's log beside the results
  stop_pid "$server_pid"
  cp "$server_log" "$out/server-$(basename "$(dirname "$server_log")").log"
}

start_postgres() {
  pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  [ -x "$pg_bin/initdb" ] || { echo "PostgreSQL is not installed (bash scripts/test.sh installs it)" >&2; exit 1; }
  pg_data="$tmp/pg/data"
  mkdir -p "$pg_data" "$tmp/pg/sock"
  local pw
  pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  echo "$pw" >"$tmp/pg/pwfile"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$tmp/pg"
  chmod 700 "$pg_data"
  as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres --pwfile="$tmp/pg/pwfile" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  # Durability off (as in scripts/test.sh): the benchmark measures the server, not the disk.
  cat >>"$pg_data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp/pg/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
CONF
  [ "$pg_statements" -eq 1 ] && printf "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n" >>"$pg_data/postgresql.conf"
  local port attempt
  # A free port can be taken between the check and PostgreSQL's bind (the fan-out before leaves thousands of closed
  # loopback connections behind): up to three ports, then the log.
  for attempt in 1 2 3; do
    port=$(free_port)
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$tmp/pg/log" -o "-p $port" -w -t 60 start >/dev/null && break
    echo "PostgreSQL did not start on port $port (attempt $attempt); its log:" >&2
    tail -n 5 "$tmp/pg/log" >&2
    [ "$attempt" -lt 3 ] || exit 1
  done
  pg_cs="Host=127.0.0.1;Port=$port;Username=postgres;Password=$pw;Database=conntext_bench"
  pg_port=$port
  echo "PostgreSQL on 127.0.0.1:$port"
}

# pg_sql <psql arguments>: the benchmark's PostgreSQL as its superuser.
pg_sql() { PGPASSWORD=$(cat "$tmp/pg/pwfile") "$pg_bin/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d conntext_bench "$@"; }

label_suffix=""
[ "$hub_client" = raw ] && label_suffix=" [raw hub client]"
# database_pid: PostgreSQL's postmaster while it runs (the generator adds its and its backends' CPU to each step).
database_pid() { [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ] && head -n1 "$pg_data/postmaster.pid" || echo 0; }

# server_metrics <port>: the generator's option that reads the ConnText server's GC metrics, with --gc-metrics.
server_metrics() { [ "$gc_metrics" -eq 1 ] && echo "--server-metrics http://127.0.0.1:$1/metrics" || true; }

fanout() { # fanout <target> <port> <pid> <label> <json name> [<database pid>]
  local suffix="" metrics=()
  [ "$1" = ws ] || suffix=$label_suffix
  [ "$1" = conntext ] && read -r -a metrics <<<"$(server_metrics "$2")"
  loadtest fanout --target "$1" --urls "http://127.0.0.1:$2" --tokens "$tokens" --connections "$connections" \
    --room-size "$room_size" --rates "$rates" --duration "$duration" --warmup "$fanout_warmup" --protocol "$protocol" \
    --hub-client "$hub_client" --server-pid "$3" --database-pid "${6:-0}" "${metrics[@]}" --label "$4$suffix" --json "$out/$5.json" | tee "$out/$5.md"
}

# ---------------------------------------------------------------- fan-out
if [ "$scenario" = all ] || [ "$scenario" = fanout ]; then
  if [ "$skip_sqlite" -eq 0 ]; then
    echo "== Fan-out: ConnText on SQLite"
    start_conntext fanout-sqlite "$connections" Sqlite
    fanout conntext "$server_port" "$server_pid" "ConnText (SQLite)" fanout-1-conntext-sqlite
    stop_server
  fi

  if [ "$postgres" -eq 1 ]; then
    echo "== Fan-out: ConnText on PostgreSQL"
    start_postgres
    start_conntext fanout-postgres "$connections" Postgres "$pg_cs"
    # With --pg-statements: counted from here (after seeding), through the connects, the warm-up and every step.
    [ "$pg_statements" -eq 1 ] && pg_sql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null
    fanout conntext "$server_port" "$server_pid" "ConnText (PostgreSQL)" fanout-2-conntext-postgres "$(database_pid)"
    if [ "$pg_statements" -eq 1 ]; then
      pg_sql -c "SELECT calls, round(total_exec_time::numeric) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms, rows,
        left(regexp_replace(query, '\s+', ' ', 'g'), 240) AS query FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 20" \
        -c "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_live_tup, n_dead_tup, autovacuum_count FROM pg_stat_user_tables
        WHERE n_tup_ins + n_tup_upd > 0 ORDER BY n_tup_ins + n_tup_upd DESC LIMIT 8" >"$out/pg-statements.txt"
      echo "PostgreSQL's top statements (execution wall time, waits for a core included): $out/pg-statements.txt"
    fi
    stop_server
  fi

  wants() { [[ ",$baselines," == *,$1,* ]]; } # wants <baseline>: named in --baselines
  if wants aspnet-ws || wants signalr; then
    dotnet publish bench/baselines/aspnet-relay -c Release -o "$tmp/aspnet-relay" -v q -nologo >"$tmp/publish.log" 2>&1 || { cat "$tmp/publish.log"; exit 1; }
  fi
  # aspnet_relay <target> <label> <json name>: a fresh relay process per run (no state carried over).
  aspnet_relay() {
    local port relay_pid
    port=$(free_port)
    (cd "$tmp" && exec dotnet "$tmp/aspnet-relay/ConnText.AspNetRelay.dll" --urls "http://127.0.0.1:$port" >"$tmp/aspnet-relay.log" 2>&1) &
    relay_pid=$!
    pids+=("$relay_pid")
    wait_http "http://127.0.0.1:$port/health" "$relay_pid" "$tmp/aspnet-relay.log"
    fanout "$1" "$port" "$relay_pid" "$2" "$3"
    stop_pid "$relay_pid"
  }
  if wants aspnet-ws; then
    echo "== Fan-out: ASP.NET Core WebSocket relay (baseline: Kestrel's WebSockets, relay.js's protocol)"
    aspnet_relay ws "ASP.NET Core WebSocket relay" fanout-7-aspnet-ws
  fi
  if wants signalr; then
    echo "== Fan-out: bare SignalR hub relay (baseline: SignalR group send, no storage or authentication)"
    aspnet_relay signalr "Bare SignalR hub relay" fanout-8-aspnet-signalr
  fi

  if wants node; then
    echo "== Fan-out: Node.js ws relay (baseline)"
    cp -r bench/baselines/ws-relay "$tmp/relay"
    (cd "$tmp/relay" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    relay_port=$(free_port)
    PORT=$relay_port node "$tmp/relay/relay.js" >"$tmp/relay.log" 2>&1 &
    relay_pid=$!
    pids+=("$relay_pid")
    for _ in $(seq 100); do grep -q LISTENING "$tmp/relay.log" && break; sleep 0.1; done
    fanout ws "$relay_port" "$relay_pid" "Node.js ws relay" fanout-9-node-ws
    stop_pid "$relay_pid"
  fi
fi

# ---------------------------------------------------------------- idle connections
if [ "$scenario" = all ] || [ "$scenario" = idle ]; then
  echo "== Idle: $idle_connections hub connections from 2 load-generator processes"
  start_conntext idle "$idle_connections" Sqlite
  urls="http://127.0.0.1:$server_port,http://127.0.0.2:$server_port"
  rss() { awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$server_pid/status"; }
  sleep 5
  points="{\"open\":0,\"rssMiB\":$(rss)}"
  half=$((idle_connections / 2))
  offset=0
  for part in 1 2; do
    count=$([ $part -eq 1 ] && echo "$half" || echo $((idle_connections - half)))
    # dotnet itself in the background (not the loadtest function's subshell), so $! is the process to stop.
    dotnet "$tmp/loadtest/ConnText.LoadTest.dll" idle --urls "$urls" --tokens "$tokens" --offset "$offset" \
      --count "$count" --hold 3600 --ready-file "$tmp/ready-$part" >"$tmp/idle-$part.log" 2>&1 &
    pids+=("$!")
    for _ in $(seq 6000); do [ -s "$tmp/ready-$part" ] && break; sleep 0.1; done
    [ -s "$tmp/ready-$part" ] || { echo "idle part $part did not finish connecting"; tail "$tmp/idle-$part.log"; exit 1; }
    offset=$((offset + count))
    sleep 10 # let the server's GC settle
    read -r open1 _ <"$tmp/ready-1"
    open2=0
    [ $part -eq 2 ] && read -r open2 _ <"$tmp/ready-2"
    points="$points,{\"open\":$((open1 + open2)),\"rssMiB\":$(rss)}"
    echo "part $part: $(cat "$tmp/ready-$part") (open failed seconds generator-RSS-MiB); server RSS $(rss) MiB"
  done
  if [ "$idle_gcdump" -eq 1 ]; then
    gcdump=$(command -v dotnet-gcdump || echo "$HOME/.dotnet/tools/dotnet-gcdump")
    [ -x "$gcdump" ] || dotnet tool install -g dotnet-gcdump >/dev/null
    "$gcdump" collect -p "$server_pid" -o "$tmp/idle.gcdump" >/dev/null # ~200 MB: kept only for the report
    "$gcdump" report "$tmp/idle.gcdump" >"$out/idle-gcdump.txt"
    sleep 5
    points="$points,{\"open\":$((open1 + open2)),\"rssMiB\":$(rss),\"afterFullGc\":true}"
    echo "after a full GC (dotnet-gcdump): server RSS $(rss) MiB; largest types in $out/idle-gcdump.txt"
  fi
  echo "{\"connections\":$idle_connections,\"processes\":2,\"points\":[$points]}" >"$out/idle.json"
  for pid in "${pids[@]}"; do stop_pid "$pid"; done # the two idle processes (and anything else still running)
  stop_server
fi

# ---------------------------------------------------------------- REST scenarios
if [ "$scenario" = rest ]; then
  : >"$out/rest.md"
  providers=(Sqlite)
  [ "$postgres" -eq 1 ] && providers+=(Postgres)
  for provider in "${providers[@]}"; do
    echo "== REST scenarios: ConnText on $provider, $rest_users users in rooms of $room_size"
    if [ "$provider" = Postgres ]; then
      [ -n "$pg_data" ] || start_postgres
      start_conntext "rest-postgres" "$rest_users" Postgres "$pg_cs"
    else
      start_conntext "rest-sqlite" "$rest_users" Sqlite
    fi
    for s in send history conversations login; do
      step_rates=$rest_rates
      [ "$s" = login ] && step_rates=$login_rates
      loadtest rest --url "http://127.0.0.1:$server_port" --tokens "$tokens" --scenario "$s" --rates "$step_rates" \
        --duration "$duration" --warmup "$warmup" --server-pid "$server_pid" --label "ConnText ($provider) $s" \
        --json "$out/rest-$provider-$s.json" | tee -a "$out/rest.md"
      echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)." | tee -a "$out/rest.md"
      echo | tee -a "$out/rest.md"
    done
    stop_server
  done
fi

# ---------------------------------------------------------------- login storm
if [ "$scenario" = storm ]; then
  echo "== Login storm: $storm_connections hub connections in rooms of $room_size at $storm_chat_rates msg/s, without and with $storm_rate sign-ins/s"
  : >"$out/storm.md"
  providers=()
  [ "$skip_sqlite" -eq 1 ] || providers+=(Sqlite)
  [ "$postgres" -eq 1 ] && providers+=(Postgres)
  for provider in "${providers[@]}"; do
    if [ "$provider" = Postgres ]; then
      [ -n "$pg_data" ] || start_postgres
      start_conntext storm-postgres "$storm_connections" Postgres "$pg_cs"
    else
      start_conntext storm-sqlite "$storm_connections" Sqlite
    fi
    db_pid=0
    [ "$provider" = Postgres ] && db_pid=$(database_pid)
    read -r -a metrics <<<"$(server_metrics "$server_port")"
    # The generator's sign-ins (a new HTTP client each) bring full collections, which its non-concurrent GC made
    # blocking: 18-20 ms pauses in the process that timestamps chat deliveries, in the storm steps only
    # (docs/performance.md, Login storm). Background collection for this scenario keeps them out of the measurement.
    DOTNET_gcConcurrent=1 loadtest fanout --target conntext --urls "http://127.0.0.1:$server_port" --tokens "$tokens" --connections "$storm_connections" \
      --room-size "$room_size" --rates "$storm_chat_rates" --duration "$duration" --warmup "$warmup" --protocol "$protocol" \
      --hub-client "$hub_client" --server-pid "$server_pid" --database-pid "$db_pid" "${metrics[@]}" --label "ConnText ($provider), login storm$label_suffix" --storm-rate "$storm_rate" --storm-rounds "$storm_rounds" --storm-process "$storm_process" --storm-warmup "$storm_warmup" --json "$out/storm-$provider.json" \
      | tee -a "$out/storm.md"
    echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)." | tee -a "$out/storm.md"
    echo | tee -a "$out/storm.md"
    stop_server
  done
fi

# ---------------------------------------------------------------- summary
# replace_block <marker> <file>: docs/performance.md between <!-- marker:start --> and <!-- marker:end --> becomes
# a line naming the run (time, load average, command) and the file.
replace_block() {
  {
    sed "/<!-- $1:start -->/q" docs/performance.md
    echo
    echo "Run of $(sed -n 's/^date_utc=//p' "$out/machine-$scenario.txt") (load average at start $(sed -n 's/^loadavg_at_start=//p' "$out/machine-$scenario.txt")), \`$(sed -n 's/^command=//p' "$out/machine-$scenario.txt")\`:"
    echo
    cat "$2"
    echo
    sed -n "/<!-- $1:end -->/,\$p" docs/performance.md
  } >"$tmp/performance.md"
  cp "$tmp/performance.md" docs/performance.md
  echo "docs/performance.md updated ($1)"
}
case $scenario in
  rest)
    cat "$out/machine-$scenario.txt" "$out/rest.md"
    [ "$update_docs" -eq 1 ] && replace_block rest-results "$out/rest.md" ;;
  storm)
    cat "$out/machine-$scenario.txt" "$out/storm.md"
    [ "$update_docs" -eq 1 ] && replace_block storm-results "$out/storm.md" ;;
  *)
    loadtest summarize --dir "$out" >/dev/null
    cat "$out/machine-$scenario.txt" "$out/summary.md"
    [ "$update_docs" -eq 1 ] && replace_block hub-results "$out/summary.md" ;;
esac
echo "Results in $out"
