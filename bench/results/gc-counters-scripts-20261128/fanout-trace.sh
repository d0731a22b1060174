#!/bin/bash
name=$1
cd /work/main
bash bench/run-hub.sh --scenario fanout --postgres --skip-sqlite --hub-client raw --baselines none --rates 300 --out bench/results/$name > /tmp/exp/$name.log 2>&1 &
run=$!
for i in $(seq 1 900); do
  pid=$(grep -oP 'ConnText \(Postgres\) pid \K[0-9]+' /tmp/exp/$name.log | head -1)
  [ -n "$pid" ] && grep -q "step 1 5s" /tmp/exp/$name.log && break; sleep 1
done
~/.dotnet/tools/dotnet-trace collect -p "$pid" --providers 'Microsoft-Windows-DotNETRuntime:0x1:5' --duration 00:00:00:10 -o /tmp/exp/$name.nettrace > /tmp/exp/$name-trace.log 2>&1
wait $run
