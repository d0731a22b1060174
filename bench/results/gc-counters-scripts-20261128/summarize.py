import csv,collections,sys
# summarize.py <counters.csv> <kind: storm|fanout>
rows=collections.defaultdict(dict)
for r in csv.reader(open(sys.argv[1])):
    if r[0]=="Timestamp": continue
    try: rows[r[0]][r[2]]=float(r[4])
    except: pass
def cpu(m): return m.get("dotnet.process.cpu.time (s / 1 sec)[cpu.mode=user]",0)+m.get("dotnet.process.cpu.time (s / 1 sec)[cpu.mode=system]",0)
groups={}
if sys.argv[2]=="storm":
    groups["steps without the storm (server CPU < 0.27 s/s)"]=[m for m in rows.values() if 0.05<=cpu(m)<0.27]
    groups["steps with the storm (server CPU > 0.33 s/s)"]=[m for m in rows.values() if cpu(m)>0.33 and cpu(m)<0.9]
else:
    groups["fan-out steps (server CPU > 0.9 s/s)"]=[m for m in rows.values() if cpu(m)>0.9]
for k,ms in groups.items():
    n=len(ms); g=lambda key: sum(m.get(key,0) for m in ms)/n
    gcs=[g(f"dotnet.gc.collections ({{collection}} / 1 sec)[gc.heap.generation=gen{i}]") for i in range(3)]
    pause=g("dotnet.gc.pause.time (s / 1 sec)")*1000
    print(f"{k}: {n} s; collections/s gen0 {gcs[0]:.3f}, gen1 {gcs[1]:.3f}, gen2 {gcs[2]:.3f}; GC pause {pause:.1f} ms/s ({pause/max(sum(gcs),1e-9):.0f} ms per collection); allocated {g('dotnet.gc.heap.total_allocated (By / 1 sec)')/1e6:.1f} MB/s; RSS {g('dotnet.process.memory.working_set (By)')/2**20:.0f} MiB")
pauses=sorted(m.get("dotnet.gc.pause.time (s / 1 sec)",0)*1000 for m in rows.values() if m.get("dotnet.gc.pause.time (s / 1 sec)",0)>0)
print(f"seconds with a GC pause: {len(pauses)}; pause within such a second: median {pauses[len(pauses)//2]:.1f} ms, max {pauses[-1]:.1f} ms")
