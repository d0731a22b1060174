# stages.py <port> <n> <pid>: server CPU per request of the whole sign-in flow, averaged over n sign-ins (after 10 warm-up)
import sys, time
src=open(__import__("os").path.join(__import__("os").path.dirname(__file__) or ".", "../signin-cost-20261128/flow.py")).read().split("def one():")[0]
sys.argv=[sys.argv[0],sys.argv[1],sys.argv[2],sys.argv[3],"x"]
exec(src)
import collections
tot=collections.Counter()
def one(rec):
    b=B(); t=[]
    def step(name,*a):
        c=cpu(); r,h=b.req(*a); d=cpu()-c
        if rec: tot[name]+=d
        return r,h
    r,h=step("1 authorize (302 to login)","GET","/connect/authorize?"+q)
    r,h=step("2 login page","GET",r.getheader("Location"))
    r,h=step("3 login post (hash)","POST","/account/login",{"__RequestVerificationToken":hidden(h,"__RequestVerificationToken"),"ReturnUrl":hidden(h,"ReturnUrl"),"Username":USER,"Password":"correct horse battery 9"})
    r,h=step("4 authorize (code)","GET",r.getheader("Location"))
    code=urllib.parse.parse_qs(urllib.parse.urlparse(r.getheader("Location")).query)["code"][0]
    r,h=step("5 token","POST","/connect/token",{"grant_type":"authorization_code","client_id":"conntext-desktop","code":code,"redirect_uri":"http://127.0.0.1:9/oauth/callback","code_verifier":ver})
    assert r.status==200
for _ in range(10): one(False)
for _ in range(n): one(True)
for k in sorted(tot): print(f"{k}: {tot[k]*1000/n:.2f} ms CPU per sign-in")
print(f"total {sum(tot.values())*1000/n:.1f} ms")
