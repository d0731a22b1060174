import sys, re, collections
path=sys.argv[1]
c=collections.Counter(); tot=0
pgleaf=collections.Counter(); pgincl=collections.Counter()
frames=[]; hdr=None
def flush():
    global tot
    if hdr is None: return
    tot+=1
    m=re.match(r'\s*(.+?)\s+(\d+)(/\d+)?\s+\[?\d*\]?\s*[\d.]+:',hdr)
    comm=m.group(1) if m else hdr.split()[0]
    c[comm]+=1
    if comm.startswith('postgres'):
        if frames: pgleaf[frames[0]]+=1
        for f in set(frames): pgincl[f]+=1
with open(path,errors='replace') as f:
    for line in f:
        if line.startswith('\t'):
            mm=re.match(r'\s+[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)\s*$', line)
            if mm: frames.append(re.sub(r'\+0x[0-9a-f]+$','',mm.group(1)) if mm.group(1)!='[unknown]' else '['+mm.group(2).split('/')[-1]+']')
        elif line.strip()=='': flush(); frames=[]; hdr=None
        else: hdr=line
flush()
print(tot,'samples (2 cores x 25 s x 499/s = ~24950)')
for k,v in c.most_common(25): print(f'{100*v/tot:5.1f}% {k}')
pt=sum(v for k,v in c.items() if k.startswith('postgres'))
print('--- postgres leaf (share of postgres samples)', pt)
for k,v in pgleaf.most_common(40): print(f'{100*v/pt:5.1f}% {k}')
print('--- postgres inclusive')
for k,v in pgincl.most_common(60): print(f'{100*v/pt:5.1f}% {k}')
