import csv,sys,collections
def load(p):
    rows=collections.defaultdict(dict)
    for r in csv.reader(open(p)):
        if r[0]=="Timestamp": continue
        try: rows[r[0]][r[2]]=float(r[4])
        except: pass
    return rows
srv=load(sys.argv[1]); gen=load(sys.argv[2])
def cpu(m): return m.get("dotnet.process.cpu.time (s / 1 sec)[cpu.mode=user]",0)+m.get("dotnet.process.cpu.time (s / 1 sec)[cpu.mode=system]",0)
cls={"quiet":[], "storm":[]}
for t,m in sorted(gen.items()):
    s=srv.get(t)
    if not s: continue
    c=cpu(s)
    if c<0.05: continue
    k="storm" if c>0.33 else ("quiet" if c<0.27 else None)
    if k: cls[k].append(m)
for k,ms in cls.items():
    n=len(ms)
    if not n: continue
    g=lambda key: sum(m.get(key,0) for m in ms)/n
    g0=g("dotnet.gc.collections ({collection} / 1 sec)[gc.heap.generation=gen0]")
    pause=g("dotnet.gc.pause.time (s / 1 sec)")
    print(f"generator {k}: {n} s, cpu {sum(cpu(m) for m in ms)/n:.2f}, gen0 {g0:.2f}/s gen1 {g('dotnet.gc.collections ({collection} / 1 sec)[gc.heap.generation=gen1]'):.2f}/s gen2 {g('dotnet.gc.collections ({collection} / 1 sec)[gc.heap.generation=gen2]'):.3f}/s, pause {pause*1000:.1f} ms/s ({pause*1000/max(g0,1e-9):.2f} ms per GC), alloc {g('dotnet.gc.heap.total_allocated (By / 1 sec)')/1e6:.1f} MB/s")
