import http.client, sys, time, os, urllib.parse, hashlib, base64
port=int(sys.argv[1]); kind=sys.argv[2]; n=int(sys.argv[3]); pid=int(sys.argv[4])
def cpu():
    f=open(f"/proc/{pid}/stat").read().rsplit(")",1)[1].split()
    return (int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK")
q=urllib.parse.urlencode({"client_id":"conntext-desktop","response_type":"code","redirect_uri":"http://127.0.0.1:9/oauth/callback","scope":"openid offline_access api","state":"bench","code_challenge":base64.urlsafe_b64encode(hashlib.sha256(b"x"*43).digest()).rstrip(b"=").decode(),"code_challenge_method":"S256"})
def one():
    c=http.client.HTTPConnection("127.0.0.1",port)
    if kind in("authorize","both"):
        c.request("GET","/connect/authorize?"+q); r=c.getresponse(); r.read()
        loc=r.getheader("Location"); assert r.status==302,(r.status)
    if kind in("login","both"):
        c.request("GET","/account/login?ReturnUrl=%2Fconnect%2Fauthorize%3F"+urllib.parse.quote(q)); r=c.getresponse(); b=r.read(); assert r.status in(200,503),r.status
    c.close()
for _ in range(200): one()
c0=cpu(); t0=time.time()
for _ in range(n): one()
c1=cpu(); t1=time.time()
print(f"{kind}: {n} attempts in {t1-t0:.1f}s, server CPU {(c1-c0)*1000/n:.3f} ms per attempt")
