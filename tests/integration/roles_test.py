"""recsys serve --roles over real HTTP:

    roles_test.py RECSYS DIR      (DIR as serve_test makes it)

Five servers on one store and model, one per role, as the microservices
deployment runs them: each answers its own routes, 404 with the reason on
the others, and the operational routes everywhere. Prints one line per
check; exits 1 at the first failure.
"""
import sys

from httpcheck import Server, check

RECSYS, DIR = sys.argv[1], sys.argv[2]
DB, MODELS = f"sqlite://{DIR}/shop.db", f"file://{DIR}/models"

# (path, method, body) of one request per group of routes.
ROUTES = {
    "input": [("/v1/events", "POST", {"user_id": "u1", "item_id": "i1"}),
              ("/v1/users/u1", "GET", None), ("/v1/items?limit=2", "GET", None),
              ("/v1/categories", "GET", None)],
    "collab": [("/v1/recommend?user_id=u1&strategy=collab", "GET", None),
               ("/v1/similar?item_id=i1", "GET", None)],
    "hybrid": [("/v1/recommend?user_id=u1&strategy=hybrid", "GET", None)],
    "popularity": [("/v1/recommend?user_id=u1&strategy=popularity", "GET", None),
                   ("/v1/popular", "GET", None)],
    "admin": [("/", "GET", None), ("/ui/app.js", "GET", None), ("/v1/runs", "GET", None),
              ("/v1/models", "GET", None)],
}
EVERYWHERE = ["/healthz", "/readyz", "/metrics", "/v1/status", "/docs", "/openapi.json"]
OK = {200, 201}

for role in ROUTES:
    S = Server(RECSYS, DB, MODELS, f"{DIR}/roles-{role}.log", args=("--roles", role))
    for other, requests in ROUTES.items():
        for path, method, body in requests:
            st, doc, _, _ = S.request(method, path, body)
            if other == role:
                check(st in OK, f"{role}: {method} {path} answers {st}", doc)
            elif role == "hybrid" and path.startswith("/v1/similar"):
                check(st == 200, f"{role}: {method} {path} (similar items are the hybrid's too)")
            else:
                check(st == 404 and doc and f"its roles are {role}" in doc["detail"],
                      f"{role}: {method} {path} is 404 and says why", doc)
    for path in EVERYWHERE:
        st, _, _, _ = S.request("GET", path)
        check(st == 200, f"{role}: {path} answers 200")
    st, doc, _, _ = S.request("GET", "/v1/status")
    check(doc["service"]["roles"] == role, f"{role}: /v1/status names the role", doc["service"])
    check(S.stop() == 0, f"{role}: stops with status 0")

# The default strategy follows the roles: auto with hybrid, else the role's.
for roles, strategy in (("collab", "collab"), ("popularity", "popularity"),
                        ("hybrid,popularity", "hybrid"), ("collab,popularity", "collab")):
    S = Server(RECSYS, DB, MODELS, f"{DIR}/roles-default.log", args=("--roles", roles))
    st, doc, _, _ = S.request("GET", "/v1/recommend?user_id=u1")
    check(st == 200 and doc["strategy"] == strategy,
          f"--roles {roles}: a request without strategy gets {strategy}", doc)
    st, doc, _, _ = S.request("GET", "/v1/recommend?user_id=u1&strategy=auto")
    check((st == 200) == ("hybrid" in roles), f"--roles {roles}: strategy=auto answers {st}", doc)
    check(S.stop() == 0, f"--roles {roles}: stops with status 0")

# Several roles in one process, and all.
S = Server(RECSYS, DB, MODELS, f"{DIR}/roles-all.log", args=("--roles", "input,admin"))
st, _, _, _ = S.request("GET", "/v1/users/u1")
check(st == 200, "--roles input,admin: users")
st, _, _, _ = S.request("GET", "/v1/models")
check(st == 200, "--roles input,admin: models")
st, doc, _, _ = S.request("GET", "/v1/popular")
check(st == 404 and "its roles are input,admin" in doc["detail"], "--roles input,admin: no popular", doc)
st, _, r, _ = S.request("PUT", "/v1/users")
check(st == 405 and r.getheader("Allow") == "POST, GET", "--roles input,admin: 405 with Allow")
check(S.stop() == 0, "--roles input,admin: stops with status 0")
