import sys, re, collections
path=sys.argv[1]; inc=sys.argv[2]; exc=sys.argv[3] if len(sys.argv)>3 else None
tot=0; n=0; incl=collections.Counter(); leaf=collections.Counter()
frames=[]
def short(s):
    s=re.sub(r'^[0-9a-f]+\s+','',s); s=re.sub(r'\s+\([^)]*\)$','',s); return s[:160]
def flush():
    global tot,n
    if not frames: return
    tot+=1; s='\n'.join(frames)
    if exc and re.search(exc,s): return
    if not re.search(inc,s): return
    n+=1
    leaf[short(frames[0])]+=1
    for fr in set(short(x) for x in frames): incl[fr]+=1
with open(path,errors='replace') as f:
    for line in f:
        if line.startswith('\t'): frames.append(line.strip())
        elif line.strip()=='': flush(); frames=[]
flush()
print(tot, n, f'{100*n/tot:.1f}%')
for k,v in incl.most_common(int(sys.argv[4]) if len(sys.argv)>4 else 60):
    if re.search(r'AsyncStateMachineBox|ExecutionContext|ThreadPool|StartHelper|StartCallback|WorkerThread|start_thread|Task`1|RunContinuations|AwaitTaskContinuation|SetExistingTaskResult|AsyncMethodBuilderCore',k): continue
    print(f'{100*v/tot:5.1f}% {k}')
