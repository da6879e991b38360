"""recsys serve on PostgreSQL while the database server restarts:

    postgres_test.py RECSYS DIR DB_URL      (PG_DIR, PG_SH: tests/pg/pg.sh and its folder)

A writer posts events one at a time, and counts the acknowledged ones (201),
from before the database server stops until after it is back. While it
is down, store requests fail with a clean 503 problem naming the cause,
and recommendations keep being served from the loaded model. Once it is
back, the server recovers by itself (no restart). The store then holds
exactly the events acknowledged, none lost and none added. Prints one line
per check; exits 1 at the first failure.
"""
import json
import os
import subprocess
import sys
import threading
import time

from httpcheck import Server, check

RECSYS, DIR, DB = sys.argv[1], sys.argv[2], sys.argv[3]
PG_SH, PG_DIR = os.environ["PG_SH"], os.environ["PG_DIR"]
S = Server(RECSYS, DB, f"file://{DIR}/models", f"{DIR}/serve.log", args=("--threads", "4"))
request = S.request


def events_in_store():
    out = subprocess.run(["psql", DB, "-tAc", "SELECT count(*) FROM events"],
                         capture_output=True, text=True, check=True)
    return int(out.stdout)


st, doc, _, _ = request("GET", "/readyz")
check(st == 200 and doc["model_version"] == 1, "ready on PostgreSQL with version 1", doc)
st, doc, _, _ = request("GET", "/v1/status")
check(st == 200 and doc["store"]["events"] == 15000, "the store's counts over PostgreSQL", doc)
st, doc, _, _ = request("GET", "/v1/recommend?user_id=u1&n=5")
check(st == 200 and len(doc["items"]) == 5, "recommendations", doc)
before = events_in_store()

# The writer: one event per request, as fast as answers come.
acked, refused, statuses = [0], [0], {}
stop = threading.Event()


def writer():
    n = 0
    while not stop.is_set():
        n += 1
        body = {"user_id": f"w{n % 50}", "item_id": f"i{n % 120 + 1}", "type": "click"}
        try:
            st, doc, _, _ = request("POST", "/v1/events", body)
        except OSError:
            st, doc = -1, None
        statuses[st] = statuses.get(st, 0) + 1
        if st == 201:
            acked[0] += 1
        else:
            refused[0] += 1
        time.sleep(0.005)


t = threading.Thread(target=writer)
t.start()
time.sleep(0.5)
check(acked[0] > 0, f"events acknowledged before the restart: {acked[0]}")

subprocess.run([PG_SH, "down", PG_DIR], check=True)
down_at = time.monotonic()
time.sleep(0.5)
st, doc, r, _ = request("POST", "/v1/events", {"user_id": "x", "item_id": "i1"})
check(st == 503 and r.getheader("Content-Type") == "application/problem+json"
      and "PostgreSQL" in doc["detail"] or "connect" in doc["detail"],
      "database down: an event is refused with 503 naming the cause", doc)
st, doc, _, _ = request("GET", "/v1/users/u1")
check(st == 503, "database down: a store read answers 503", doc)
st, doc, _, _ = request("GET", "/readyz")
check(st == 503 and "store" in doc["detail"], "database down: not ready", doc)
st, doc, _, _ = request("GET", "/v1/recommend?user_id=u1&n=5")
check(st == 200 and len(doc["items"]) == 5, "database down: recommendations still served", doc)
st, _, _, _ = request("GET", "/healthz")
check(st == 200, "database down: the process is healthy")

subprocess.run([PG_SH, "up", PG_DIR], check=True)
up_at = time.monotonic()
recovered = None
for _ in range(200):
    st, doc, _, _ = request("GET", "/readyz")
    if st == 200:
        recovered = time.monotonic() - up_at
        break
    time.sleep(0.05)
check(recovered is not None, f"ready again by itself, {recovered and round(recovered, 2)} s "
      f"after the database came back (down for {round(up_at - down_at, 1)} s)")
n_acked = acked[0]
time.sleep(0.5)
check(acked[0] > n_acked, "events acknowledged again after the restart")
stop.set()
t.join()
print(f"writer: {statuses}")
check(refused[0] > 0 and set(statuses) <= {201, 503},
      "while it was down, events were refused with 503 only", statuses)
after = events_in_store()
check(after - before == acked[0],
      f"every acknowledged event is stored, and only those: {after - before} of {acked[0]}")
st, doc, _, _ = request("GET", "/v1/status")
check(st == 200 and doc["store"]["events"] == after, "the counts follow", doc)
check(S.stop() == 0, "stops with status 0")
