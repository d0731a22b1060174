#!/usr/bin/env bash
# perf profile of a ConnText fan-out step: run.sh OUT RATE [server|system] [postgres|sqlite]
# (server: the server process, `perf record -p`; system: both cores, `perf record -a`, as for after-400-system-wide.txt)
set -u
out=$1; rate=${2:-300}; scope=${3:-server}; database=${4:-postgres}
db_args='--postgres --skip-sqlite'; [ "$database" = sqlite ] && db_args=''
cd /work/main
bash bench/run-hub.sh --scenario fanout $db_args --hub-client raw --baselines none --rates $rate --duration 45 \
  --server-env 'DOTNET_PerfMapEnabled=1 DOTNET_ReadyToRun=0 DOTNET_EnableWriteXorExecute=0' --out $out > $out.log 2>&1 &
runpid=$!
until grep -q "step 1/1" $out.log 2>/dev/null; do sleep 1; if ! kill -0 $runpid 2>/dev/null; then echo "run ended"; exit 1; fi; done
sleep 10
spid=$(pgrep -f "ConnText.Server.dll" | head -1)
[ -z "$spid" ] && spid=$(pgrep -f "ConnText.Server" | head -1)
echo "server pid $spid" >> $out.perf.txt
target="-p $spid"; [ "$scope" = system ] && target=-a
perf record -F 499 -g $target -o $out.perf.data -- sleep 25 >> $out.perf.txt 2>&1
cp /tmp/perf-$spid.map $out.perf-map 2>/dev/null
wait $runpid
cp $out.perf-map /tmp/perf-$spid.map; perf script -i $out.perf.data > $out.perf.script 2>/dev/null
echo done
