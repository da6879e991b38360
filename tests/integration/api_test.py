"""The store-writing side of `recsys serve` end to end, over real HTTP:

    api_test.py RECSYS DIR

DIR holds shop.db (generated data, imported), models/ (one trained
version) and gen/. Checks the users and items endpoints (create, read,
list with paging, patch, several items by id), categories, status, the
web UI's files and their ETags, that hiding an item takes it out of every
answer at once, a catalogue of malformed requests on every endpoint that
writes or reads the store (each a 4xx problem+json naming the problem,
the store unchanged), the API keys (--api-key, --api-key-read), and
serving popularity computed from the store while no model is published.
Prints one line per check; exits 1 on the first failure.
"""
import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse

from httpcheck import Server, check

RECSYS, DIR = sys.argv[1], sys.argv[2]
DB = f"sqlite://{DIR}/shop.db"
MODELS = f"file://{DIR}/models"
S = Server(RECSYS, DB, MODELS, f"{DIR}/api.log")
request, problem = S.request, S.problem


def store_state():
    """Every user, item and the event count, read straight from the file."""
    db = sqlite3.connect(f"file:{DIR}/shop.db?mode=ro", uri=True)
    state = (db.execute("SELECT * FROM users ORDER BY key").fetchall(),
             db.execute("SELECT * FROM items ORDER BY key").fetchall(),
             db.execute("SELECT count(*) FROM events").fetchone()[0])
    db.close()
    return state


items_csv = list(csv.DictReader(open(f"{DIR}/gen/items.csv")))
category = {row["item_id"]: row["category"] for row in items_csv}
seen = {}
for row in csv.DictReader(open(f"{DIR}/gen/events.csv")):
    seen.setdefault(row["user_id"], []).append(row["item_id"])
user = max(seen, key=lambda u: len(seen[u]))

# --- users -------------------------------------------------------------------
st, doc, _, _ = request("POST", "/v1/users", {"user_id": "alice", "attributes": {"plan": "pro"}})
check(st == 201 and doc["user_id"] == "alice" and doc["attributes"] == {"plan": "pro"}
      and doc["created_at"].endswith("Z"), "users: POST creates (201)", doc)
st, doc, _, _ = request("POST", "/v1/users", {"user_id": "alice", "attributes": {"plan": "free"}})
check(st == 200 and doc["attributes"] == {"plan": "free"}, "users: POST again updates (200)", doc)
st, doc, _, _ = request("POST", "/v1/users", {"users": [{"user_id": "alice"}, {"user_id": "bob"},
                                                         {"user_id": "alina"}]})
check(st == 200 and doc == {"created": 2, "updated": 1}, "users: a batch", doc)
st, doc, _, _ = request("GET", "/v1/users/alice")
check(st == 200 and doc["attributes"] == {"plan": "free"},
      "users: a batch entry without attributes keeps them", doc)
st, doc, _, _ = request("GET", "/v1/users?q=al&limit=10")
check(st == 200 and [u["user_id"] for u in doc["users"]] == ["alice", "alina"]
      and doc["next_cursor"] is None, "users: search by id prefix", doc)
# Paging visits every user exactly once.
got, cursor = [], None
while True:
    q = "/v1/users?limit=37" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
    st, doc, _, _ = request("GET", q)
    got += [u["user_id"] for u in doc["users"]]
    cursor = doc["next_cursor"]
    if cursor is None:
        break
check(got == sorted(set(got)) and len(got) == len(store_state()[0]),
      f"users: paging visits all {len(got)} users once, in order")
st, doc, _, _ = request("GET", f"/v1/users/{user}/events?limit=5")
times = [e["timestamp"] for e in doc["events"]]
check(st == 200 and len(doc["events"]) == 5 and times == sorted(times, reverse=True),
      "users: a user's events, newest first", doc)
problem("/v1/users/nobody-here", 404, "nobody-here")
problem("/v1/users/nobody-here/events", 404, "nobody-here")

# --- items -------------------------------------------------------------------
new_item = {"item_id": "lamp-1", "title": "Desk lamp", "category": "Home", "brand": "Lux",
            "tags": ["light", "desk"], "attributes": {"watts": 40}}
st, doc, _, _ = request("POST", "/v1/items", new_item)
check(st == 201 and doc["title"] == "Desk lamp" and doc["tags"] == ["light", "desk"]
      and doc["hidden"] is False, "items: POST creates (201)", doc)
st, doc, _, _ = request("PATCH", "/v1/items/lamp-1", {"title": "Desk lamp XL", "tags": []})
check(st == 200 and doc["title"] == "Desk lamp XL" and doc["tags"] == []
      and doc["brand"] == "Lux" and doc["attributes"] == {"watts": 40},
      "items: PATCH changes only the fields given", doc)
st, doc, _, _ = request("GET", "/v1/items/lamp-1")
check(st == 200 and doc["title"] == "Desk lamp XL", "items: GET one", doc)
st, doc, _, _ = request("POST", "/v1/items", {"items": [new_item, {"item_id": "lamp-2"}]})
check(st == 200 and doc == {"created": 1, "updated": 1}, "items: a batch", doc)
cat = category[seen[user][0]]
got, cursor = [], None
while True:
    q = f"/v1/items?category={urllib.parse.quote(cat)}&limit=7"
    st, doc, _, _ = request("GET", q + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""))
    check(st == 200, "items: a page", doc)
    got += [i["item_id"] for i in doc["items"]]
    cursor = doc["next_cursor"]
    if cursor is None:
        break
check(sorted(got) == sorted(i for i, c in category.items() if c == cat),
      f"items: paging by category visits the {len(got)} items of {cat} once")
problem("/v1/items/no-such-item", 404, "no-such-item")
problem("/v1/items/no-such-item", 404, "no-such-item", method="PATCH", body={"hidden": True})

# Several items in one request: those that exist, in id order, filtered and
# paged like any list.
some = sorted(category)[:5]
asked = [some[3], "no-such-item", some[0], some[3], "", some[1]]
st, doc, _, _ = request("GET", "/v1/items?ids=" + urllib.parse.quote(",".join(asked)))
check(st == 200 and [i["item_id"] for i in doc["items"]] == sorted({some[0], some[1], some[3]})
      and doc["next_cursor"] is None, "items: ids lists those that exist, once, in id order", doc)
st, doc, _, _ = request("GET", "/v1/items?limit=2&ids=" + ",".join(some))
check(st == 200 and [i["item_id"] for i in doc["items"]] == some[:2]
      and doc["next_cursor"] == some[1], "items: ids with a limit gives a cursor", doc)
st, doc, _, _ = request("GET", f"/v1/items?cursor={some[1]}&ids=" + ",".join(some))
check(st == 200 and [i["item_id"] for i in doc["items"]] == some[2:],
      "items: ids after a cursor", doc)
cat0 = category[some[0]]
st, doc, _, _ = request("GET", f"/v1/items?category={urllib.parse.quote(cat0)}&ids=" + ",".join(some))
check(st == 200 and [i["item_id"] for i in doc["items"]] == [i for i in some if category[i] == cat0],
      "items: ids of a category", doc)

# Categories with their counts, paged.
counts = {}
for c in category.values():
    counts[c] = counts.get(c, 0) + 1
counts["Home"] = counts.get("Home", 0) + 1  # lamp-1 (lamp-2 has no category)
got, cursor = {}, None
while True:
    st, doc, _, _ = request("GET", "/v1/categories?limit=3" + (
        f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""))
    check(st == 200 and len(doc["categories"]) <= 3, "categories: a page", doc)
    got.update((c["category"], c["items"]) for c in doc["categories"])
    cursor = doc["next_cursor"]
    if cursor is None:
        break
check(got == counts, f"categories: paging visits the {len(counts)} categories with their counts",
      f"{got} != {counts}")

# Status: the model served and the store's counts.
st, doc, _, _ = request("GET", "/v1/status")
users, items_, events = (len(t) if isinstance(t, list) else t for t in store_state())
check(st == 200 and doc["store"] == {"users": users, "items": items_, "events": events,
                                     "newest_event_at": doc["store"]["newest_event_at"]}
      and doc["model"]["version"] == 1 and "collab" in doc["model"]["strategies"]
      and doc["model"]["age_seconds"] >= 0 and doc["training"]["in_progress"] is False
      and doc["training"]["retrain_every_seconds"] is None,
      "status: the model version and the store's counts", doc)

# The web UI and its files: validated by ETag, 304 while current.
for path in ("/", "/ui/app.js", "/ui/chart.umd.min.js", "/docs/swagger-ui.css"):
    st, _, r, body = request("GET", path)
    etag = r.getheader("ETag")
    check(st == 200 and body and etag and r.getheader("Cache-Control") == "no-cache",
          f"{path}: 200 with an ETag")
    st, _, r, body = request("GET", path, headers={"If-None-Match": f'"other", W/{etag}'})
    check(st == 304 and not body and r.getheader("ETag") == etag, f"{path}: 304 for its ETag")
    st, _, r, body = request("GET", path, headers={"If-None-Match": '"other"'})
    check(st == 200 and body, f"{path}: 200 for another ETag")
st, _, r, body = request("GET", "/")
check(b"/ui/app.js" in body and "text/html" in r.getheader("Content-Type")
      and "script-src 'self'" in (r.getheader("Content-Security-Policy") or ""),
      "/: the web UI's page, which loads its script, under a content security policy")
problem("/ui/no-such-file.js", 404, "no file /ui/no-such-file.js")

# --- hiding an item takes it out of every answer at once ---------------------
st, doc, _, _ = request("GET", f"/v1/recommend?user_id={user}&n=10")
top = doc["items"][0]["item_id"]
st, pop, _, _ = request("GET", "/v1/popular?n=1")
best = pop["items"][0]["item_id"]
for item in (top, best):
    st, doc, _, _ = request("PATCH", f"/v1/items/{item}", {"hidden": True})
    check(st == 200 and doc["hidden"] is True, f"hide {item}")
st, doc, _, _ = request("GET", f"/v1/recommend?user_id={user}&n=50")
check(top not in [i["item_id"] for i in doc["items"]], "hidden: gone from recommend at once")
st, doc, _, _ = request("GET", "/v1/popular?n=50")
check(best not in [i["item_id"] for i in doc["items"]], "hidden: gone from popular at once")
st, doc, _, _ = request("GET", f"/v1/similar?item_id={seen[user][0]}&n=50")
check(st == 200 and not {top, best} & {i["item_id"] for i in doc["items"]},
      "hidden: gone from similar at once", doc)
st, doc, _, _ = request("PATCH", f"/v1/items/{best}", {"hidden": False})
st, doc, _, _ = request("GET", "/v1/popular?n=1")
check(doc["items"][0]["item_id"] == best, "hidden: shown again when unhidden")

# --- malformed requests: a 4xx that names the problem, nothing written -------
before = store_state()
long_id = "x" * 300
bad = [
    # (method, path, body, status, detail)
    ("POST", "/v1/users", b'{"user_id": "a",', 400, "not valid JSON"),
    ("POST", "/v1/users", b'{"user_id": "\xff\xfe"}', 400, "not valid JSON"),
    ("POST", "/v1/users", b'{"user_id":"a","user_id":"b"}', 400, "duplicate"),
    ("POST", "/v1/users", {"attributes": {}}, 400, "user_id: is required"),
    ("POST", "/v1/users", {"user_id": 42}, 400, "user_id: must be a string"),
    ("POST", "/v1/users", {"user_id": long_id}, 400, "user_id:"),
    ("POST", "/v1/users", {"user_id": "a\u0001b"}, 400, "user_id:"),
    ("POST", "/v1/users", {"user_id": ""}, 400, "user_id:"),
    ("POST", "/v1/users", {"user_id": "a", "attributes": [1]}, 400,
     "attributes: must be an object"),
    ("POST", "/v1/users", {"user_id": "a", "attributes": {"k": "v" * 70000}}, 400,
     "attributes: is larger than"),
    ("POST", "/v1/users", {"user_id": "a", "email": "a@b"}, 400, "email: is not a field"),
    ("POST", "/v1/users", {"users": [{"user_id": "ok1"}, {"user_id": "ok2"}, {"id": "x"}]},
     400, "users[2].id: is not a field"),
    ("POST", "/v1/users", {"users": []}, 400, "a batch holds 1 to 10000 users"),
    ("POST", "/v1/users", {"users": [{"user_id": "u"}] * 10001}, 413, "not 10001"),
    ("POST", "/v1/users", {"users": {"user_id": "a"}}, 400, "a batch is"),
    ("POST", "/v1/users", b"[1, 2]", 400, "not a bare array"),
    ("POST", "/v1/users", {"users": [{"user_id": "a"}, 7]}, 400, "users[1] is not an object"),
    ("PATCH", "/v1/items/lamp-1%00x", {"hidden": True}, 400, "NUL byte (%00)"),
    ("POST", "/v1/users?x=%00", {"user_id": "a"}, 400, "NUL byte (%00)"),
    ("GET", "/v1/recommend?user_id=u1&exclude=a,%01", None, 400, "exclude, entry 2"),
    ("POST", "/v1/users", b"\"just a string\"", 400, "not valid JSON"),
    ("POST", "/v1/users", b"", 400, "not valid JSON"),
    ("POST", "/v1/users?dry_run=1", {"user_id": "a"}, 400, "unknown query parameter 'dry_run'"),
    ("POST", "/v1/items", {"title": "no id"}, 400, "item_id: is required"),
    ("POST", "/v1/items", {"item_id": "a", "title": 5}, 400, "title: must be a string"),
    ("POST", "/v1/items", {"item_id": "a", "tags": "red"}, 400, "tags: must be an array"),
    ("POST", "/v1/items", {"item_id": "a", "tags": [1]}, 400, "tags: must be an array of strings"),
    ("POST", "/v1/items", {"item_id": "a", "tags": ["t"] * 65}, 400, "more than 64 tags"),
    ("POST", "/v1/items", {"item_id": "a", "tags": ["t" * 200]}, 400, "tag"),
    ("POST", "/v1/items", {"item_id": "a", "hidden": "yes"}, 400, "hidden: must be true or false"),
    ("POST", "/v1/items", {"item_id": "a", "price": 3}, 400, "price: is not a field"),
    ("POST", "/v1/items", {"item_id": "a", "title": "t" * 5000}, 400, "title"),
    ("POST", "/v1/items", {"items": [{"item_id": "ok"}, {"item_id": 1}]}, 400,
     "items[1].item_id: must be a string"),
    ("POST", "/v1/items", b"[1e999999]", 400, "not valid JSON"),
    ("PATCH", "/v1/items/lamp-1", {}, 400, "changes no field"),
    ("PATCH", "/v1/items/lamp-1", {"item_id": "lamp-9"}, 400, "cannot change"),
    ("PATCH", "/v1/items/lamp-1", {"hidden": 1}, 400, "hidden: must be true or false"),
    ("PATCH", "/v1/items/lamp-1", b"{", 400, "not valid JSON"),
    ("PATCH", "/v1/items/" + long_id, {"hidden": True}, 400, "item id:"),
    ("PATCH", "/v1/items/%FF%FE", {"hidden": True}, 400, "item id:"),
    ("POST", "/v1/events", {"user_id": "a", "item_id": "b", "value": 1e308 * 10}, 400,
     "not valid JSON"),
    ("POST", "/v1/events", {"user_id": "a", "item_id": "b", "timestamp": 10 ** 15}, 400,
     "timestamp"),
    ("POST", "/v1/events", b"x" * (2 << 20), 413, "larger than the limit"),
    ("GET", "/v1/users?limit=-1", None, 400, "limit must be a whole number from 1 to 1000"),
    ("GET", "/v1/users?limit=100000000000000000000", None, 400, "limit must be"),
    ("GET", "/v1/users?q=%FF", None, 400, "q is not valid UTF-8"),
    ("GET", "/v1/users?q=" + "a" * 300, None, 400, "q is longer than"),
    ("GET", "/v1/users?sort=name", None, 400, "unknown query parameter 'sort'"),
    ("GET", "/v1/users/" + long_id, None, 400, "user id:"),
    ("GET", "/v1/users/a%01b", None, 400, "user id:"),
    ("GET", "/v1/users/u1/events?limit=0", None, 400, "limit must be"),
    ("GET", "/v1/items?cursor=%C3%28", None, 400, "cursor is not valid UTF-8"),
    ("GET", "/v1/items?ids=a,%01", None, 400, "ids, entry 2"),
    ("GET", "/v1/items?ids=" + ",".join(f"i{n}" for n in range(101)), None, 400,
     "more than 100"),
    ("GET", "/v1/categories?limit=0", None, 400, "limit must be"),
    ("GET", "/v1/categories?cursor=%FF", None, 400, "cursor is not valid UTF-8"),
    ("GET", "/v1/status?verbose=1", None, 400, "unknown query parameter 'verbose'"),
    ("GET", "/v1/items/" + "y" * 2000, None, 400, "longer than 1024 bytes"),
    ("GET", "/v1/items/..%2F..%2Fetc%2Fpasswd", None, 404, "no route"),
    ("GET", "/v1/items/%2E%2E", None, 404, "no item with id '..'"),
    ("GET", "/v1/recommend?user_id=u1&n=-3", None, 400, "n must be"),
    ("GET", "/v1/recommend?user_id=u1&" + "&".join(f"p{i}=1" for i in range(40)), None, 400,
     "more than 32 query parameters"),
    ("DELETE", "/v1/users/u1", None, 405, "does not take DELETE"),
    ("PUT", "/v1/items", {"item_id": "a"}, 405, "allowed: POST, GET"),
]
for method, path, body, status, detail in bad:
    problem(path, status, detail, method=method, body=body)
check(store_state() == before, f"store unchanged after {len(bad)} malformed requests")
check(S.stop() == 0, "stops with status 0")

# --- API keys ----------------------------------------------------------------
env = dict(os.environ, RECSYS_API_KEY="s3cret-key")
K = Server(RECSYS, DB, MODELS, f"{DIR}/api-key.log", env=env)
event = {"user_id": "keyed", "item_id": "lamp-1"}
for headers, why in (({}, "no token"), ({"Authorization": "Bearer wrong"}, "a wrong token"),
                     ({"Authorization": "Basic czNjcmV0LWtleQ=="}, "another scheme"),
                     ({"Authorization": "Bearer s3cret-key-and-more"}, "a longer token")):
    r = K.problem("/v1/events", 401, "needs 'Authorization: Bearer <API key>'", method="POST",
                  body=event, headers=headers)
    check(r.getheader("WWW-Authenticate", "").startswith("Bearer"), f"401 for {why} challenges")
for path, method, body in (("/v1/users", "POST", {"user_id": "k"}),
                           ("/v1/items/lamp-1", "PATCH", {"hidden": False}),
                           ("/v1/models/rollback", "POST", None), ("/v1/train", "POST", None)):
    K.problem(path, 401, "API key", method=method, body=body)
check(store_state() == before, "refused writes wrote nothing")
st, doc, _, _ = K.request("POST", "/v1/events", event, headers={"Authorization": "Bearer s3cret-key"})
check(st == 201, "the API key opens writes", doc)
st, _, _, _ = K.request("GET", f"/v1/recommend?user_id={user}")
check(st == 200, "reads stay open without --api-key-read")
check(K.stop() == 0, "stops with status 0")
check("s3cret" not in open(f"{DIR}/api-key.log").read(), "the key is never logged")

R = Server(RECSYS, DB, MODELS, f"{DIR}/api-read.log", args=["--api-key-read", "r34d"], env=env)
R.problem(f"/v1/recommend?user_id={user}", 401, "read key or API key")
R.problem("/v1/users/alice", 401, "read key or API key",
          headers={"Authorization": "Bearer nope"})
for token in ("r34d", "s3cret-key"):
    st, _, _, _ = R.request("GET", f"/v1/recommend?user_id={user}",
                            headers={"Authorization": f"Bearer {token}"})
    check(st == 200, f"reads open with {'the read key' if token == 'r34d' else 'the API key'}")
R.problem("/v1/events", 401, "API key", method="POST", body=event,
          headers={"Authorization": "Bearer r34d"})
for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"):
    st, _, _, _ = R.request("GET", path)
    check(st == 200, f"{path} stays open")
check(R.stop() == 0, "stops with status 0")

# --- no model published: popularity from the store ---------------------------
# A model name the registry has no version of.
os.makedirs(f"{DIR}/no-models", exist_ok=True)
P = Server(RECSYS, DB, f"file://{DIR}/no-models", f"{DIR}/api-nomodel.log",
           args=["--model-name", "unpublished"])
st, doc, _, _ = P.request("GET", "/readyz")
check(st == 200 and doc["model_version"] == 0, "no model: ready on the store's popularity", doc)
st, doc, _, _ = P.request("GET", f"/v1/recommend?user_id={user}&n=5")
check(st == 200 and doc["strategy"] == "popularity" and doc["model_version"] == "0"
      and len(doc["items"]) == 5, "no model: recommend answers with popularity", doc)
st, doc, _, _ = P.request("GET", "/v1/popular?n=1")
newcomer = next(i["item_id"] for i in items_csv if i["item_id"] != doc["items"][0]["item_id"])
P.problem("/v1/events", 400, 'or {"events": [...]} for a batch, not a bare array', method="POST",
          body=[{"user_id": "x", "item_id": newcomer}])
burst = {"events": [{"user_id": f"fan-{j}", "item_id": newcomer} for j in range(5000)]}
st, doc, _, _ = P.request("POST", "/v1/events", burst)
check(st == 201 and doc["accepted"] == 5000, "no model: a burst of events accepted", doc)
P.proc.send_signal(signal.SIGHUP)  # as the next poll would
for _ in range(100):
    st, doc, _, _ = P.request("GET", "/v1/popular?n=1")
    if doc["items"][0]["item_id"] == newcomer:
        break
    time.sleep(0.05)
check(doc["items"][0]["item_id"] == newcomer, "no model: popularity recomputed from new events", doc)
# Every thread hands the stop and reload signals on: none may die of them,
# even one a library started before the server blocked them.
caught = int(next(l for l in open(f"/proc/{P.proc.pid}/status") if l.startswith("SigCgt:")).split()[1], 16)
check(all(caught >> (sig - 1) & 1 for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)),
      "the stop and reload signals are caught process-wide", hex(caught))
# A SIGTERM that lands while a reload is under way still stops gracefully.
P.request("POST", "/v1/events", {"user_id": "late", "item_id": newcomer})
P.proc.send_signal(signal.SIGHUP)
time.sleep(0.003)
check(P.stop() == 0, "SIGTERM during a reload stops with status 0")

empty = f"sqlite://{DIR}/empty.db"
subprocess.run([RECSYS, "import", "--db", empty, "--events", "/dev/null"], capture_output=True)
E = Server(RECSYS, empty, f"file://{DIR}/no-models", f"{DIR}/api-empty.log")
E.problem("/readyz", 503, "no model is published and the store has no events")
E.problem("/v1/popular", 503, "import events or run recsys train")
check(E.stop() == 0, "stops with status 0")
print("all passed")
