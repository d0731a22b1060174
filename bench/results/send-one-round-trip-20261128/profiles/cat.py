import sys, re, collections
path=sys.argv[1]
cats=[('dispatch (RealtimeConnections.Dispatch and below)', r'RealtimeConnections::Dispatch'),
      ('ws send loop (WebSocketsServerTransport sending)', r'WebSocketsServerTransport\+<StartSending'),
      ('kestrel socket send/IOQueue', r'Kestrel.Transport.Sockets|SocketConnection'),
      ('EF Core / Npgsql / SQLite (storing, not dispatch)', r'EntityFrameworkCore|\[Npgsql\]|Microsoft.Data.Sqlite|e_sqlite3|SQLitePCL'),
      ('SignalR hub invocation (not EF)', r'DefaultHubDispatcher|HubConnectionHandler'),
      ('heartbeat/scan', r'TickHeartbeat|HttpConnectionManager::Scan|Heartbeat'),
      ('GC', r'gc_heap|GCHeap|WKS::|SVR::'),
      ('thread pool wait/spin', r'WorkerThread::WorkerDoWork|LowLevelLifoSemaphore|Semaphore'),
]
tot=0; c=collections.Counter()
frames=[]
def flush():
    global tot
    if not frames: return
    tot+=1; s='\n'.join(frames)
    for name,pat in cats:
        if re.search(pat,s): c[name]+=1; return
    c['other']+=1
with open(path,errors='replace') as f:
    for line in f:
        if line.startswith('\t'): frames.append(line.strip())
        elif line.strip()=='': flush(); frames=[]
flush()
print(tot)
for k,v in c.most_common(): print(f'{100*v/tot:5.1f}% {k}')
