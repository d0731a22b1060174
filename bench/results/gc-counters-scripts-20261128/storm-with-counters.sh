#!/bin/bash
# storm-with-counters.sh <out name> [server env] [extra run-hub args...]: PG storm with dotnet-counters on server and generator
name=$1; env=${2:-}; shift 2
cd /work/main
out=bench/results/$name
args=(--scenario storm --postgres --skip-sqlite --hub-client raw --out "$out" "$@")
[ -n "$env" ] && args+=(--server-env "$env")
bash bench/run-hub.sh "${args[@]}" > /tmp/exp/$name.log 2>&1 &
run=$!
for i in $(seq 1 600); do
  pid=$(grep -oP 'ConnText \(Postgres\) pid \K[0-9]+' /tmp/exp/$name.log | head -1)
  [ -n "$pid" ] && break; sleep 1
done
~/.dotnet/tools/dotnet-counters collect -p "$pid" --counters System.Runtime --refresh-interval 1 --format csv -o /tmp/exp/$name-counters.csv >/dev/null 2>&1 &
for i in $(seq 1 600); do
  gpid=$(pgrep -f "ConnText.LoadTest.dll fanout" | head -1)
  [ -n "$gpid" ] && break; sleep 1
done
~/.dotnet/tools/dotnet-counters collect -p "$gpid" --counters System.Runtime --refresh-interval 1 --format csv -o /tmp/exp/$name-gen-counters.csv >/dev/null 2>&1 &
wait $run
