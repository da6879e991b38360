"""recsys serve end to end, over real HTTP on 127.0.0.1.

    serve_test.py RECSYS DIR

DIR holds shop.db (generated data, imported), models/ (one trained
version) and gen/ (the generated CSV files). Starts the server on a free
port and checks: recommendations (collab for known users, popularity for
unknown ones, seen/excluded/hidden items left out, category filter),
similar and popular items, every kind of bad request (problem+json naming
the problem), 404/405, the body limit, 256 keep-alive connections, the
Prometheus exposition (promtool), hot swaps under load with zero failed
requests, a corrupt version refused, and a graceful stop on SIGTERM.
Prints one line per check; exits 1 on the first failure.
"""
import csv
import http.client
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from httpcheck import Server, check

RECSYS, DIR = sys.argv[1], sys.argv[2]
DB = f"sqlite://{DIR}/shop.db"
MODELS = f"file://{DIR}/models"

SERVER = Server(RECSYS, DB, MODELS, f"{DIR}/serve.log")
PROC, PORT = SERVER.proc, SERVER.port
request, problem = SERVER.request, SERVER.problem


# --- what the data says -------------------------------------------------
seen = {}
for row in csv.DictReader(open(f"{DIR}/gen/events.csv")):
    seen.setdefault(row["user_id"], set()).add(row["item_id"])
category = {row["item_id"]: row["category"] for row in csv.DictReader(open(f"{DIR}/gen/items.csv"))}
user = max(seen, key=lambda u: len(seen[u]))

# --- recommendations ----------------------------------------------------
st, doc, _, _ = request("GET", f"/v1/recommend?user_id={user}&n=20")
check(st == 200 and doc["strategy"] == "collab" and doc["model_version"] == "1"
      and len(doc["items"]) == 20, "recommend: collab for a known user", doc)
check(not seen[user] & {i["item_id"] for i in doc["items"]}, "recommend: seen items left out")
scores = [i["score"] for i in doc["items"]]
check(scores == sorted(scores, reverse=True), "recommend: best first")
top = doc["items"][0]["item_id"]
st, doc, _, _ = request("GET", f"/v1/recommend?user_id={user}&n=20&exclude={top},nosuch")
check(st == 200 and top not in {i["item_id"] for i in doc["items"]}, "recommend: exclude")
st, doc, _, _ = request("GET", f"/v1/recommend?user_id={user}&n=50&exclude_seen=false")
check(st == 200 and seen[user] & {i["item_id"] for i in doc["items"]},
      "recommend: exclude_seen=false may return seen items")
cat = category[top]
st, doc, _, _ = request("GET", f"/v1/recommend?user_id={user}&n=5&category={cat}")
check(st == 200 and doc["items"] and all(category[i["item_id"]] == cat for i in doc["items"]),
      "recommend: category filter", doc)
st, doc, _, _ = request("GET", "/v1/recommend?user_id=nobody-like-this&n=7")
check(st == 200 and doc["strategy"] == "popularity" and len(doc["items"]) == 7,
      "recommend: unknown user gets popular items, not an error", doc)
st, doc, _, _ = request("GET", f"/v1/recommend?user_id={user}&strategy=popularity&n=3")
check(st == 200 and doc["strategy"] == "popularity", "recommend: strategy=popularity")
st, doc, _, _ = request("GET", "/v1/recommend?user_id=u%C3%A9%20x&n=1")
check(st == 200 and doc["user_id"] == "u\u00e9 x", "recommend: UTF-8 ids round-trip", doc)

# --- similar and popular ------------------------------------------------
st, doc, _, _ = request("GET", f"/v1/similar?item_id={top}&n=5")
check(st == 200 and len(doc["items"]) == 5 and top not in {i["item_id"] for i in doc["items"]},
      "similar: neighbours of an item", doc)
st, doc, _, _ = request("GET", "/v1/popular?n=4")
check(st == 200 and doc["ranking"] == "count" and len(doc["items"]) == 4, "popular")
st, doc, _, _ = request("GET", "/v1/popular?n=4&window=7d")
check(st == 200 and doc["ranking"] == "trending", "popular: window gives trending")
st, doc, _, _ = request("GET", f"/v1/popular?n=4&category={cat}")
check(st == 200 and all(category[i["item_id"]] == cat for i in doc["items"]),
      "popular: category")

# --- bad requests -------------------------------------------------------
problem("/v1/recommend?n=3", 400, "user_id is required")
problem(f"/v1/recommend?user_id={user}&n=0", 400, "n must be a whole number from 1 to 1000")
problem(f"/v1/recommend?user_id={user}&n=1001", 400, "n must be")
problem(f"/v1/recommend?user_id={user}&n=-5", 400, "n must be")
problem(f"/v1/recommend?user_id={user}&n=99999999999999999999", 400, "n must be")
problem(f"/v1/recommend?user_id={user}&n=ten", 400, "not 'ten'")
problem(f"/v1/recommend?user_id={user}&colour=red", 400, "unknown query parameter 'colour'")
problem(f"/v1/recommend?user_id={user}&strategy=magic", 400, "strategy must be")
st, doc, _, _ = request("GET", f"/v1/recommend?user_id={user}&strategy=hybrid&n=3")
check(st == 200 and doc["strategy"] == "collab",
      "recommend: strategy=hybrid falls back to collab without a hybrid model", doc)
problem(f"/v1/recommend?user_id={user}&diversity=2", 400, "diversity must be a number from 0 to 1")
problem(f"/v1/recommend?user_id={user}&diversity=nan", 400, "diversity must be")
problem(f"/v1/recommend?user_id={user}&explain=perhaps", 400, "explain must be true or false")
problem(f"/v1/recommend?user_id={user}&exclude_seen=maybe", 400, "exclude_seen must be true or false")
problem("/v1/recommend?user_id=" + "x" * 300, 400, "user_id")
problem("/v1/recommend?user_id=%FF%FE", 400, "user_id")
problem("/v1/recommend?user_id=a%01b", 400, "user_id")
problem("/v1/similar?item_id=no-such-item", 404, "no item 'no-such-item'")
problem("/v1/similar", 400, "item_id is required")
problem("/v1/popular?window=soon", 400, "window must be a duration")
problem("/v1/../etc/passwd", 404, "no route")
problem("/nowhere", 404, "no route /nowhere")
r = problem("/v1/recommend", 405, "does not take DELETE", method="DELETE")
check(r.getheader("Allow") == "GET", "405 names the allowed methods")
problem("/v1/events", 413, "larger than the limit", method="POST", body=b"x" * (2 << 20))

# --- events ---------------------------------------------------------------
def event_count():
    db = sqlite3.connect(f"file:{DIR}/shop.db?mode=ro", uri=True)
    n = db.execute("SELECT count(*) FROM events").fetchone()[0]
    db.close()
    return n


before = event_count()
st, doc, _, _ = request("POST", "/v1/events",
                        json.dumps({"user_id": user, "item_id": top, "type": "click"}))
check(st == 201 and doc["accepted"] == 1 and event_count() == before + 1,
      "events: one event accepted and durable", doc)
batch = {"events": [{"user_id": "new-user", "item_id": top},
                    {"user_id": "new-user", "item_id": "new-item", "value": 4.5,
                     "timestamp": "2025-12-01T10:00:00Z"},
                    {"user_id": user, "item_id": top, "timestamp": 1764583200}]}
st, doc, _, _ = request("POST", "/v1/events", json.dumps(batch))
check(st == 201 and doc["accepted"] == 3 and doc["users_created"] == 1
      and doc["items_created"] == 1 and event_count() == before + 4, "events: a batch", doc)
before = event_count()
bad = [
    ({"events": [{"user_id": "a", "item_id": "b"}, {"user_id": "a", "item_id": "b"},
                 {"user_id": "a", "item_id": "b", "value": "x"}]},
     "events[2].value: must be a finite number; nothing was written"),
    ({"user_id": "a"}, "item_id: is required"),
    ({"user_id": 7, "item_id": "b"}, "user_id: must be a string"),
    ({"user_id": "a", "item_id": "b", "colour": "red"}, "colour: is not a field of an event"),
    ({"user_id": "a", "item_id": "b", "timestamp": "yesterday"}, "timestamp:"),
    ({"user_id": "a", "item_id": "b", "type": "Bad Type"}, "type:"),
    ({"user_id": "x" * 300, "item_id": "b"}, "user_id:"),
    ({"events": "all of them"}, "a batch is"),
    ({"events": []}, "a batch holds 1 to 10000 events"),
    ([1, 2], "not a bare array"),
]
for body, detail in bad:
    problem("/v1/events", 400, detail, method="POST", body=json.dumps(body))
problem("/v1/events", 400, "not valid JSON", method="POST", body=b'{"user_id": "a",')
problem("/v1/events", 400, "not valid JSON", method="POST", body=b'{"user_id":"\xff","item_id":"b"}')
problem("/v1/events", 400, "not valid JSON", method="POST",
        body=b'{"user_id":"a","user_id":"b","item_id":"c"}')
problem("/v1/events", 413, "1 to 10000 events", method="POST",
        body=json.dumps({"events": [{"user_id": "a", "item_id": "b"}] * 10001}))
check(event_count() == before, "events: rejected bodies wrote nothing")

# --- real time: events change the next answer without a retrain ------------
st, doc, _, _ = request("GET", f"/v1/recommend?user_id={user}&n=10")
first = doc["items"][0]["item_id"]
st, _, _, _ = request("POST", "/v1/events", json.dumps({"user_id": user, "item_id": first}))
check(st == 201, "real time: event accepted")
st, doc, _, _ = request("GET", f"/v1/recommend?user_id={user}&n=10")
check(first not in {i["item_id"] for i in doc["items"]},
      "real time: an item just touched leaves the user's recommendations at once", doc)
check(doc["strategy"] == "collab", "real time: still collab", doc)
# A brand-new user who touches items of one category gets that category.
by_cat = {}
for item, c in category.items():
    by_cat.setdefault(c, []).append(item)
st, pop, _, _ = request("GET", "/v1/popular?n=200")
rank = {i["item_id"]: r for r, i in enumerate(pop["items"])}
cat = max(by_cat, key=lambda c: len(by_cat[c]))
liked = sorted(by_cat[cat], key=lambda i: rank.get(i, 999))[:5]
st, doc, _, _ = request("GET", "/v1/recommend?user_id=fresh-user&n=10")
check(doc["strategy"] == "popularity", "real time: a user with no events gets popular items")
in_cat_before = sum(category.get(i["item_id"]) == cat for i in doc["items"])
st, _, _, _ = request("POST", "/v1/events", json.dumps(
    {"events": [{"user_id": "fresh-user", "item_id": i, "type": "like"} for i in liked]}))
st, doc, _, _ = request("GET", "/v1/recommend?user_id=fresh-user&n=10")
got_items = [i["item_id"] for i in doc["items"]]
in_cat = sum(category.get(i) == cat for i in got_items)
check(doc["strategy"] == "collab" and not set(liked) & set(got_items),
      "real time: after 5 events a new user gets collab results without those items", doc)
check(in_cat >= 6 and in_cat > in_cat_before,
      f"real time: they follow the user's category ({in_cat}/10 vs {in_cat_before}/10 before)")
# A client that waits for 100 Continue gets the 413 without sending the body.
with open(f"{DIR}/big.json", "wb") as f:
    f.write(b"x" * (8 << 20))
out = subprocess.run(["curl", "-s", "-H", "Expect: 100-continue", "--data-binary",
                      f"@{DIR}/big.json", "-w", "\n%{http_code}",
                      f"http://127.0.0.1:{PORT}/v1/events"], capture_output=True, text=True)
body, _, code = out.stdout.rpartition("\n")
check(code == "413" and "larger than the limit" in body,
      "413 before the body (Expect: 100-continue)", out.stdout[-200:])

# --- 256 keep-alive connections, all answered -----------------------------
conns = [http.client.HTTPConnection("127.0.0.1", PORT, timeout=10) for _ in range(256)]
answered = 0
for round_ in range(3):
    for c in conns:
        st, _, r, _ = request("GET", "/v1/popular?n=3", conn=c)
        answered += st == 200 and r.getheader("Connection", "").lower() != "close"
for c in conns:
    c.close()
check(answered == 3 * 256, "256 keep-alive connections each answered 3 times", answered)

# --- metrics ------------------------------------------------------------
st, _, r, text = request("GET", "/metrics")
check(st == 200 and r.getheader("Content-Type").startswith("text/plain; version=0.0.4"),
      "metrics: text exposition")
metrics = text.decode()
promtool = shutil.which("promtool")
check(promtool is not None, "promtool is installed (scripts/install-deps)")
out = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True)
check(out.returncode == 0, "promtool check metrics", out.stdout + out.stderr)
check('recsys_http_requests_total{route="/v1/recommend",status="200"}' in metrics
      and 'recsys_http_requests_total{route="/v1/recommend",status="400"}' in metrics,
      "metrics: requests by route and status")
check('recsys_http_request_duration_seconds_bucket{route="/v1/recommend",le="+Inf"}' in metrics,
      "metrics: duration histogram with +Inf")
check("recsys_events_ingested_total 10" in metrics and "recsys_foldins_total " in metrics,
      "metrics: events ingested, fold-ins")
check('recsys_recommend_fallbacks_total{reason="unknown_user"} ' in metrics
      and "recsys_model_version 1" in metrics, "metrics: fallbacks and model version")
# Histogram buckets never decrease (promtool does not check this).
for route in ("/v1/recommend", "/v1/popular"):
    counts = [float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
              if line.startswith(f'recsys_http_request_duration_seconds_bucket{{route="{route}"')]
    check(counts == sorted(counts) and counts[-1] > 0, f"metrics: {route} buckets cumulative")

# --- hot swap under load: zero failed requests ----------------------------
stop = threading.Event()
results = {"ok": 0, "bad": []}


def hammer():
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    while not stop.is_set():
        try:
            st, doc, _, _ = request("GET", f"/v1/recommend?user_id={user}&n=10", conn=c)
            if st == 200 and len(doc["items"]) == 10:
                results["ok"] += 1
            else:
                results["bad"].append(st)
        except Exception as e:  # a dropped connection is a failure too
            results["bad"].append(repr(e))
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)


threads = [threading.Thread(target=hammer) for _ in range(4)]
for t in threads:
    t.start()
for version in (2, 3):
    subprocess.run([RECSYS, "train", "--db", DB, "--models", MODELS, "--no-eval",
                    "--promote", "always", "--log-level", "warn", "--factors", "16"],
                   check=True, capture_output=True)
    PROC.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline:
        st, doc, _, _ = request("GET", "/readyz")
        if st == 200 and doc["model_version"] == version:
            break
        time.sleep(0.05)
    check(doc["model_version"] == version, f"hot swap to version {version}", doc)
time.sleep(0.3)
stop.set()
for t in threads:
    t.join()
check(not results["bad"] and results["ok"] > 100,
      f"no failed request during the swaps ({results['ok']} answered)", results["bad"][:5])

# A version whose artifact was damaged after it was registered is refused
# (its checksum no longer matches); the served one stays.
out = subprocess.run([RECSYS, "train", "--db", DB, "--models", MODELS, "--no-eval",
                      "--promote", "never", "--json", "--log-level", "warn", "--factors", "16"],
                     check=True, capture_output=True, text=True).stdout
v4 = json.loads(out.splitlines()[-1])
check(v4["version"] == 4 and v4["stage"] == "candidate", "version 4 kept as a candidate", v4)
with open(v4["uri"][len("file://"):], "r+b") as f:
    f.seek(100)
    f.write(os.urandom(64))
subprocess.run([RECSYS, "models", "promote", "4", "--db", DB], check=True, capture_output=True)
PROC.send_signal(signal.SIGHUP)
time.sleep(0.5)
st, doc, _, _ = request("GET", f"/v1/recommend?user_id={user}&n=3")
check(st == 200 and doc["model_version"] == "3", "corrupt version refused, version 3 serves", doc)
check("new model refused" in open(f"{DIR}/serve.log").read(), "the refusal is logged")
st, _, _, text = request("GET", "/metrics")
check("recsys_model_reload_failures_total 1" in text.decode(), "metrics: reload failure counted")

# --- graceful stop -----------------------------------------------------------
PROC.send_signal(signal.SIGTERM)
try:
    code = PROC.wait(timeout=10)
except subprocess.TimeoutExpired:
    PROC.kill()
    code = None
check(code == 0, "SIGTERM stops the server with status 0", code)
log = open(f"{DIR}/serve.log").read()
check("msg=request method=GET path=/v1/recommend status=200 us=" in log, "access log lines")
print("all passed")
