import sys, re, collections
# perf script output: sample header line, then frames "\taddr sym (dso)", blank line between samples
path=sys.argv[1]; top=int(sys.argv[2]) if len(sys.argv)>2 else 80
incl=collections.Counter(); leaf=collections.Counter(); comm=collections.Counter(); total=0
def norm(s):
    s=re.sub(r'\[OptimizedTier1\]|\[Optimized\]|\[Tier1\]|\[Tier0\]|\[QuickJitted\]|\[PreJIT\]|\[OSR\]','',s)
    s=re.sub(r'\+0x[0-9a-f]+$','',s.strip())
    return s.strip()
with open(path, errors='replace') as f:
    frames=[]; hdr=None
    for line in f:
        if line.startswith('\t') or line.startswith(' '):
            m=re.match(r'\s+[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)\s*$', line)
            if m: frames.append(norm(m.group(1)) if m.group(1)!='[unknown]' else '['+m.group(2).split('/')[-1]+']')
        elif line.strip()=='' :
            if hdr is not None:
                total+=1; comm[hdr]+=1
                if frames: leaf[frames[0]]+=1
                for fr in set(frames): incl[fr]+=1
            frames=[]; hdr=None
        else:
            hdr=line.split()[0]
print(total,'samples')
for k,v in comm.most_common(15): print(f'thread {100*v/total:5.1f}% {k}')
print('--- leaf')
for k,v in leaf.most_common(40): print(f'{100*v/total:5.1f}% {k[:150]}')
print('--- inclusive')
for k,v in incl.most_common(top): print(f'{100*v/total:5.1f}% {k[:150]}')
