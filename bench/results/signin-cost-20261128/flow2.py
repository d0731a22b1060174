import sys; sys.argv=[sys.argv[0]]+sys.argv[1:]
exec(open("/tmp/exp/flow.py").read().split("for _ in range(5): one()")[0])
stage=sys.argv[4]
def part():
    b=B()
    r,h=b.req("GET","/connect/authorize?"+q)
    r,h=b.req("GET",r.getheader("Location"))
    if stage=="page": return
    pw="wrong password here" if stage=="wrong" else "correct horse battery 9"
    r,h=b.req("POST","/account/login",{"__RequestVerificationToken":hidden(h,"__RequestVerificationToken"),"ReturnUrl":hidden(h,"ReturnUrl"),"Username":"alice","Password":pw})
    if stage in ("wrong","login"): return
    r,h=b.req("GET",r.getheader("Location"))
    if stage=="code": return
for _ in range(n): part()
