#!/usr/bin/env bash
# History benchmark (issue 4, "History: p99 of a 50-message keyset page on PostgreSQL with 10 million messages").
#
# Starts a throwaway PostgreSQL on a free loopback port in a temp dir, applies the server's migrations with the
# published server's `migrate` command, bulk-loads MESSAGES messages spread over CONVERSATIONS conversations with SQL
# generate_series, ANALYZEs, then starts the published server on it and measures
#   1. GET /api/v1/conversations/{id}/messages?before=…&limit=50 end to end over HTTP, open loop at RATE requests/s for
#      SECONDS s (random conversation, random full page; latency from each request's scheduled time), authenticated
#      with a personal access token created through the API for a user who is a member of every conversation;
#   2. the same random pages read straight from PostgreSQL with OFFSET paging (the baseline), with the keyset query, with
#      the server's page statement and with the one before ADR 0022 (each with the CPU its PostgreSQL backend used).
# It prints EXPLAIN ANALYZE of the keyset page, the figures, and the CPU seconds used by the server, PostgreSQL and the
# load generator during the HTTP run. Everything it starts is stopped on exit. Only 127.0.0.1 is contacted.
#
#   bench/history/run.sh                       # 10,000,000 messages, 1,000 conversations, 1,000 req/s for 30 s
#   RATE="100 1000" bench/history/run.sh       # one HTTP run per rate, each on a freshly started server
#   MESSAGES=1000000 SECONDS_=10 bench/history/run.sh   # a quicker look
#   TRACE=1 ...                                # also a dotnet-trace CPU sample of the server during each HTTP run
#                                              # (for the profile only: on a busy machine the sampler throttles the server)
#   STATEMENTS=1 ...                           # also load pg_stat_statements and print, after each HTTP run, the statements
#                                              # PostgreSQL executed in it (calls, mean and total execution time)
#   WARMUP_SECONDS=30 ...                      # warm-up of each freshly started server before its measured window
#   SEARCH_INDEX=0 ...                         # skip rebuilding the full-text GIN index after the load (paging never reads it)
#   UPDATE_DOCS=1 ...                          # also rewrites docs/performance.md between the history-results markers
#   VARIANTS='a:|b:VAR=value VAR2=value' ...   # an A/B on one data load: each rate runs once per variant, in turn, on a
#                                              # server started with that variant's environment; {conn} in a value is the
#                                              # benchmark's connection string, e.g.
#                                              # VARIANTS='default:|reset:ConnectionStrings__Default={conn};NoResetOnClose=false'
# The report (and any trace) is kept in bench/results/history-<UTC time>/ (or OUT=dir).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

MESSAGES=${MESSAGES:-10000000}
CONVERSATIONS=${CONVERSATIONS:-1000}
RATE=${RATE:-1000}
SECONDS_=${SECONDS_:-30}
# The load generator warms each freshly started server up for this long before measuring (JIT tiering).
export WARMUP_SECONDS=${WARMUP_SECONDS:-30}
SQL_PAGES=${SQL_PAGES:-5000}
TRACE=${TRACE:-0}
STATEMENTS=${STATEMENTS:-0}
trace_cmd=$(command -v dotnet-trace || echo "$HOME/.dotnet/tools/dotnet-trace")
UPDATE_DOCS=${UPDATE_DOCS:-0}
OUT=${OUT:-bench/results/history-$(date -u +%Y%m%dT%H%M%SZ)}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
# Everything printed from here on is also the report.
exec > >(tee "$OUT/report.txt") 2>&1
echo "history benchmark: $started_at, MESSAGES=$MESSAGES CONVERSATIONS=$CONVERSATIONS RATE=\"$RATE\" SECONDS_=$SECONDS_, load average at start $load_at_start"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/conntext-history.XXXXXX")
chmod 755 "$tmp"
pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)
pg_data="$tmp/pg/data"
server_pid=""

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then (cd "$tmp" && runuser -u postgres -- "$@"); else "$@"; fi
}

cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  if [ -f "$pg_data/postmaster.pid" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m fast stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  local port
  while :; do
    port=$(( (RANDOM * 32768 + RANDOM) % 40001 + 20000 ))
    [ -z "$(ss -ltnH "sport = :$port" 2>/dev/null)" ] && { echo "$port"; return; }
  done
}

# CPU seconds (user + system) of a process, or of a process and its children when given "tree".
cpu_of() {
  local pid=$1 tree=${2:-} ticks=0 p
  local pids=("$pid")
  [ -n "$tree" ] && pids+=($(pgrep -P "$pid" || true))
  for p in "${pids[@]}"; do
    [ -r "/proc/$p/stat" ] || continue
    # fields 14 and 15 after the "(comm)" part: utime stime
    ticks=$(( ticks + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat") ))
  done
  echo "$ticks"
}
hz=$(getconf CLK_TCK)

echo "== building (Release)"
dotnet publish src/ConnText.Server -c Release -o "$tmp/server" -nologo -v q >"$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
dotnet build bench/ConnText.HistoryBench -c Release -o "$tmp/bench" -nologo -v q >"$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }

echo "== PostgreSQL"
mkdir -p "$pg_data" "$tmp/pg/sock"
pg_pw=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
echo "$pg_pw" >"$tmp/pg/pwfile"
[ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$tmp/pg"
chmod 700 "$pg_data"
as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres --pwfile="$tmp/pg/pwfile" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
# shared_buffers: a quarter of the machine's memory, the PostgreSQL documentation's starting value for a dedicated
# server (6 GiB here; 2 GiB before, which kept 10 M messages' pages mostly in the OS cache: 55 of a page's 58
# buffers were reads, each copied into shared memory).
shared_buffers_mb=$(awk '/MemTotal/ { printf "%d", $2 / 1024 / 4 }' /proc/meminfo)
cat >>"$pg_data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp/pg/sock'
shared_buffers = ${shared_buffers_mb}MB
effective_cache_size = 8GB
maintenance_work_mem = 1GB
work_mem = 16MB
max_wal_size = 8GB
checkpoint_timeout = 30min
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
if [ "$STATEMENTS" = 1 ]; then
  printf "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = top\n" >>"$pg_data/postgresql.conf"
fi
pg_port=$(free_port)
as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$tmp/pg/log" -o "-p $pg_port" -w -t 60 start >/dev/null
pg_pid=$(head -n1 "$pg_data/postmaster.pid")
echo "$("$pg_bin/postgres" --version) on 127.0.0.1:$pg_port"
conn="Host=127.0.0.1;Port=$pg_port;Database=conntext;Username=postgres;Password=$pg_pw"
psql_() { PGPASSWORD=$pg_pw "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d conntext -v ON_ERROR_STOP=1 -qAt "$@"; }

export ConnText__Database__Provider=Postgres ConnectionStrings__Default="$conn"
export ConnText__DataDirectory="$tmp/data" Logging__LogLevel__Default=Warning
dotnet "$tmp/server/ConnText.Server.dll" migrate

server_port=$(free_port)
server_url="http://127.0.0.1:$server_port"
start_server() { # start_server [VAR=value ...]: the server, with that environment on top of the script's
  env "$@" dotnet "$tmp/server/ConnText.Server.dll" --Urls="$server_url" >"$tmp/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do
    curl -fsS "$server_url/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  cat "$tmp/server.log" >&2
  echo "server did not become ready" >&2
  exit 1
}

echo "== benchmark user and token (through the API)"
start_server
read -r user_id token < <(dotnet "$tmp/bench/ConnText.HistoryBench.dll" token "$server_url" bench "history benchmark password 1")
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

per_conv=$(( MESSAGES / CONVERSATIONS ))
echo "== loading $CONVERSATIONS conversations x $per_conv messages"
started=$(date +%s)
# Bulk load like an import: the secondary indexes (the paging index among them) are dropped and rebuilt once after
# the load, sorted, instead of taking 10 M random inserts each (which took ~20 min on the busy machine); the
# definitions come from the migrated schema, so the rebuilt indexes are the server's own.
psql_ -c "SELECT indexdef FROM pg_indexes WHERE tablename = 'messages' AND indexname IN ('IX_messages_ConversationId_Sequence', 'IX_messages_ConversationId_SenderId_ClientMessageId')" >"$tmp/indexes.sql"
[ "$(wc -l <"$tmp/indexes.sql")" -eq 2 ] || { echo "expected the two messages indexes, got:"; cat "$tmp/indexes.sql"; exit 1; }
psql_ <<SQL
DROP INDEX IF EXISTS "IX_messages_SearchVector";
DROP INDEX "IX_messages_ConversationId_Sequence";
DROP INDEX "IX_messages_ConversationId_SenderId_ClientMessageId";
INSERT INTO conversations ("Id", "Kind", "Title", "LastSequence", "CreatedAt", "LastActivityAt")
SELECT md5('conversation' || c)::uuid, 'group', 'conversation ' || c, $per_conv, now() - interval '400 days', now()
FROM generate_series(1, $CONVERSATIONS) AS c;
INSERT INTO conversation_members ("ConversationId", "UserId", "Role", "JoinedAt", "LastReadSequence", "Muted")
SELECT md5('conversation' || c)::uuid, '$user_id'::uuid, 'owner', now() - interval '400 days', 0, false
FROM generate_series(1, $CONVERSATIONS) AS c;
SQL
# Rows are written in the order live traffic writes them: message s of every conversation, then message s + 1, ...,
# so one conversation's page is spread over many heap pages as on a real server (loading conversation by conversation
# would cluster each page into one or two heap pages and flatter the figures). Ids are time-ordered like the server's
# Guid v7; texts are 20 to ~300 characters. Ten statements of MESSAGES / 10 rows each.
step=$(( (per_conv + 9) / 10 ))
for ((first = 1; first <= per_conv; first += step)); do
  last=$(( first + step - 1 > per_conv ? per_conv : first + step - 1 ))
  psql_ <<SQL
INSERT INTO messages ("Id", "ConversationId", "Sequence", "Kind", "SenderId", "ClientMessageId", "Text", "CreatedAt")
SELECT (lpad(to_hex(s::bigint * $CONVERSATIONS + c), 12, '0') || '7' || substr(md5(c || ':' || s), 1, 19))::uuid,
       md5('conversation' || c)::uuid, s, 'text', '$user_id'::uuid, md5('client' || c || ':' || s)::uuid,
       substr(repeat('the quick brown fox jumps over the lazy dog while we talk about the release plan and lunch ', 4),
              1 + (hashint4(c * 7919 + s) & 63), 20 + (hashint4(s * 104729 + c) & 255)) || ' #' || s,
       now() - interval '400 days' + s * interval '1 minute' + c * interval '1 millisecond'
FROM generate_series($first, $last) AS s, generate_series(1, $CONVERSATIONS) AS c
ORDER BY s, c;
SQL
  echo "  messages $first-$last of every conversation loaded ($(( $(date +%s) - started ))s)"
done
sed 's/$/;/' "$tmp/indexes.sql" | psql_
echo "  paging indexes rebuilt ($(( $(date +%s) - started ))s)"
if [ "${SEARCH_INDEX:-1}" = 1 ]; then
  psql_ -c 'CREATE INDEX "IX_messages_SearchVector" ON messages USING GIN ("SearchVector");'
else
  echo "  full-text index not rebuilt (SEARCH_INDEX=0): paging does not read it, and building it on 10 M rows takes minutes"
fi
psql_ -c 'VACUUM ANALYZE;'
echo "  loaded in $(( $(date +%s) - started ))s: $(psql_ -c 'SELECT count(*) FROM messages') messages," \
     "database $(psql_ -c "SELECT pg_size_pretty(pg_database_size('conntext'))")"
psql_ -c "SELECT \"Id\" || ',' || \"LastSequence\" FROM conversations" >"$tmp/targets.csv"

echo "== EXPLAIN ANALYZE of a keyset page (the server's query shape)"
sample=$(head -n1 "$tmp/targets.csv" | cut -d, -f1)
psql_ -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM messages WHERE \"ConversationId\" = '$sample' AND \"Sequence\" < $(( per_conv / 2 )) ORDER BY \"Sequence\" DESC LIMIT 51;"

echo "== SQL baseline ($SQL_PAGES random pages each, one connection)"
dotnet "$tmp/bench/ConnText.HistoryBench.dll" sql "$conn" "$tmp/targets.csv" "$SQL_PAGES" offset
dotnet "$tmp/bench/ConnText.HistoryBench.dll" sql "$conn" "$tmp/targets.csv" "$SQL_PAGES" keyset
# The server's page statement (the keyset page and its membership check), and the one before ADR 0022 (three EXISTS
# probes per row for reactions, mentions and files).
dotnet "$tmp/bench/ConnText.HistoryBench.dll" sql "$conn" "$tmp/targets.csv" "$SQL_PAGES" keyset-server
dotnet "$tmp/bench/ConnText.HistoryBench.dll" sql "$conn" "$tmp/targets.csv" "$SQL_PAGES" keyset-probes

VARIANTS=${VARIANTS:-default:}
IFS='|' read -r -a variants <<<"$VARIANTS"
for rate in $RATE; do
for variant in "${variants[@]}"; do
  variant_name=${variant%%:*}
  read -r -a variant_env <<<"${variant#*:}"
  variant_env=("${variant_env[@]//\{conn\}/$conn}")
  echo "== HTTP: $rate requests/s for ${SECONDS_}s$([ ${#variants[@]} -gt 1 ] && echo ", variant $variant_name: ${variant#*:}" | sed "s/$pg_pw/***/")"
  start_server "${variant_env[@]}"
  [ "$STATEMENTS" = 1 ] && psql_ -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset();' >/dev/null
  server_cpu0=$(cpu_of "$server_pid"); pg_cpu0=$(cpu_of "$pg_pid" tree)
  trace_pid=""
  if [ "$TRACE" = 1 ]; then
    # Starts after the load generator's warm-up would be ideal; sampling the whole run keeps it simple (the
    # warm-up's JIT shows up as its own stacks).
    "$trace_cmd" collect -p "$server_pid" --profile dotnet-sampled-thread-time -o "$OUT/server-$rate-$variant_name.nettrace" >"$OUT/trace-$rate-$variant_name.log" 2>&1 &
    trace_pid=$!
  fi
  dotnet "$tmp/bench/ConnText.HistoryBench.dll" http "$server_url" "$token" "$tmp/targets.csv" "$rate" "$SECONDS_" "$server_pid" "$pg_pid" || http_rc=$?
  if [ -n "$trace_pid" ]; then
    # SIGTERM, not SIGINT: a background job of a non-interactive shell ignores SIGINT, and dotnet-trace kept
    # sampling forever. On SIGTERM it still writes a trace that `dotnet-trace report` reads.
    kill -TERM "$trace_pid" 2>/dev/null || true
    wait "$trace_pid" 2>/dev/null || true
    "$trace_cmd" report "$OUT/server-$rate-$variant_name.nettrace" topN --inclusive -n 40 >"$OUT/server-$rate-$variant_name-top.txt" 2>&1 || true
    echo "trace: $OUT/server-$rate-$variant_name.nettrace, top inclusive frames in $OUT/server-$rate-$variant_name-top.txt"
  fi
  server_cpu1=$(cpu_of "$server_pid"); pg_cpu1=$(cpu_of "$pg_pid" tree)
  if [ "$STATEMENTS" = 1 ]; then
    echo "statements PostgreSQL executed in the step (warm-up included), by total execution time:"
    psql_ -F ' | ' -c "SELECT calls, round(mean_exec_time::numeric * 1000) || ' µs mean', round(total_exec_time::numeric) || ' ms total', left(regexp_replace(query, '\s+', ' ', 'g'), 160) FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 8"
  fi
  awk -v s=$(( server_cpu1 - server_cpu0 )) -v p=$(( pg_cpu1 - pg_cpu0 )) -v hz="$hz" \
    'BEGIN { printf "CPU of the whole step (start, warm-up and measured window): server %.1fs, PostgreSQL %.1fs\n", s / hz, p / hz }'
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$UPDATE_DOCS" = 1 ]; then
  {
    sed '/<!-- history-results:start -->/q' docs/performance.md
    echo
    echo "Run of $started_at (load average at start $load_at_start), \`MESSAGES=$MESSAGES RATE=\"$RATE\" SECONDS_=$SECONDS_$([ "$VARIANTS" != default: ] && echo " VARIANTS='$VARIANTS'") bench/history/run.sh\`:"
    echo
    echo '```text'
    grep -E '^(  loaded in|== HTTP|sql |http|server CPU|PostgreSQL CPU|load generator CPU|CPU of the whole|machine:| *Index Scan| *Buffers| *Execution Time)' "$OUT/report.txt"
    echo '```'
    echo
    sed -n '/<!-- history-results:end -->/,$p' docs/performance.md
  } >"$tmp/performance.md"
  cp "$tmp/performance.md" docs/performance.md
  echo "docs/performance.md updated (history-results)"
fi
exit "${http_rc:-0}"
