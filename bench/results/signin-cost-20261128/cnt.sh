# cnt.sh <pid> <seconds> <cmd...>
pid=$1; secs=$2; shift 2
rm -f /tmp/exp/cnt.csv
~/.dotnet/tools/dotnet-counters collect -p $pid --counters System.Runtime --refresh-interval 1 --format csv --duration 00:00:$secs -o /tmp/exp/cnt.csv >/dev/null 2>&1 & cp=$!
sleep 2; "$@"; wait $cp
python3 - <<'PY'
import csv
tot={}
for r in csv.reader(open("/tmp/exp/cnt.csv")):
    if r[0]=="Timestamp": continue
    n=r[2]
    if any(k in n for k in ["collections","total_allocated","pause.time"]): tot[n]=tot.get(n,0)+float(r[4])
print("   alloc MB", round(tot.get("dotnet.gc.heap.total_allocated (By / 1 sec)",0)/1e6,2), "GCs", sum(v for k,v in tot.items() if "collections" in k), "pause ms", round(tot.get("dotnet.gc.pause.time (s / 1 sec)",0)*1000,1))
PY
