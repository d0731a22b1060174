#!/bin/bash
# fanout-ab.sh <name> <server env or ''>
name=$1; env=$2
cd /work/main
args=(--scenario fanout --postgres --skip-sqlite --hub-client raw --baselines none --rates 300,400 --out bench/results/$name)
[ -n "$env" ] && args+=(--server-env "$env")
bash bench/run-hub.sh "${args[@]}" > /tmp/exp/$name.log 2>&1 &
run=$!
for i in $(seq 1 900); do
  pid=$(grep -oP 'ConnText \(Postgres\) pid \K[0-9]+' /tmp/exp/$name.log | head -1)
  [ -n "$pid" ] && break; sleep 1
done
~/.dotnet/tools/dotnet-counters collect -p "$pid" --counters System.Runtime --refresh-interval 1 --format csv --duration 00:10:00 -o /tmp/exp/$name-counters.csv >/dev/null 2>&1 &
cp=$!
wait $run
kill $cp 2>/dev/null
