"""The five roles as separate processes, on PostgreSQL and S3:

    microservices_test.py RECSYS DIR    (RECSYS_DB, RECSYS_MODELS and AWS_* set)

Starts input, collab, hybrid, popularity and admin on free ports, posts
events to input, runs `recsys train` as the CronJob would, and checks
that collab, hybrid and popularity load the new version by themselves
and answer with it. Then a real Prometheus (Debian's) scrapes the five,
and its /api/v1/targets shows every one up, with their metrics queryable.
Prints one line per check; exits 1 at the first failure.
"""
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from httpcheck import Server, check

RECSYS, DIR = sys.argv[1], sys.argv[2]
ROLES = ["input", "collab", "hybrid", "popularity", "admin"]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


# Each role on its own port; the store and model store come from the
# environment, as the manifests give them.
servers = {}
for role in ROLES:
    servers[role] = Server(RECSYS, None, None, f"{DIR}/role-{role}.log",
                           args=("--roles", role, "--poll", "300ms"))
for role, S in servers.items():
    st, doc, _, _ = S.request("GET", "/readyz")
    check(st == 200 and doc["model_version"] == 1, f"{role}: ready with version 1", doc)

inp = servers["input"]
events = [{"user_id": f"ms{n}", "item_id": f"i{n % 120 + 1}", "type": "like"} for n in range(400)]
st, doc, _, _ = inp.request("POST", "/v1/events", {"events": events})
check(st == 201 and doc["accepted"] == 400, "input: 400 events accepted", doc)
st, doc, _, _ = servers["collab"].request("POST", "/v1/events", events[0])
check(st == 404, "collab: does not take events")

# The CronJob: one `recsys train`, promoted when it is at least as good.
out = subprocess.run([RECSYS, "train", "--log-level", "warn", "--factors", "16",
                      "--promote", "always"], capture_output=True, text=True)
check(out.returncode == 0, "recsys train (the job) exits 0", out.stderr)

deadline = time.monotonic() + 10
for role in ("collab", "hybrid", "popularity"):
    S = servers[role]
    version = None
    while time.monotonic() < deadline:
        st, doc, _, _ = S.request("GET", "/readyz")
        version = doc.get("model_version") if doc else None
        if version == 2:
            break
        time.sleep(0.1)
    check(version == 2, f"{role}: picked up version 2 by itself", doc)
for role, strategy in (("collab", "collab"), ("hybrid", "hybrid"), ("popularity", "popularity")):
    st, doc, _, _ = servers[role].request("GET", "/v1/recommend?user_id=ms1&n=5")
    check(st == 200 and doc["model_version"] == "2" and len(doc["items"]) == 5
          and doc["strategy"] in (strategy, "popularity"),
          f"{role}: recommends with version 2 ({doc and doc['strategy']})", doc)
st, doc, _, _ = servers["collab"].request("GET", "/v1/recommend?user_id=ms1&strategy=collab")
check(st == 200 and doc["strategy"] == "collab", "collab: a user known only from the events "
      "posted to input gets collaborative recommendations from version 2", doc)
st, doc, _, _ = servers["admin"].request("GET", "/v1/models")
check(st == 200 and doc["production"] == 2, "admin: the registry shows version 2", doc)

# A real Prometheus scraping the five.
prom = shutil.which("prometheus")
check(prom is not None, "prometheus is installed (scripts/install-deps)")
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
port = sock.getsockname()[1]
sock.close()
targets = [f"127.0.0.1:{S.port}" for S in servers.values()]
with open(f"{DIR}/prometheus.yml", "w") as f:
    f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: recsys\n"
            "    static_configs:\n      - targets: [" + ", ".join(f'"{t}"' for t in targets) + "]\n")
p = subprocess.Popen([prom, f"--config.file={DIR}/prometheus.yml",
                      f"--storage.tsdb.path={DIR}/prometheus-data",
                      f"--web.listen-address=127.0.0.1:{port}"],
                     stdout=subprocess.DEVNULL, stderr=open(f"{DIR}/prometheus.log", "w"))
try:
    base = f"http://127.0.0.1:{port}"
    up, t0 = [], time.monotonic()
    while time.monotonic() - t0 < 30:
        try:
            doc = get(f"{base}/api/v1/targets")
            up = [t["labels"]["instance"] for t in doc["data"]["activeTargets"]
                  if t["health"] == "up"]
            if len(up) == len(targets):
                break
        except OSError:
            pass
        time.sleep(0.5)
    check(sorted(up) == sorted(targets),
          f"prometheus: the five targets are up after {time.monotonic() - t0:.1f} s", up)
    q = urllib.parse.quote("recsys_model_version")
    doc = get(f"{base}/api/v1/query?query={q}")
    versions = {r["metric"]["instance"]: r["value"][1] for r in doc["data"]["result"]}
    check(len(versions) == 5 and set(versions.values()) == {"2"},
          "prometheus: recsys_model_version is 2 on every role", versions)
finally:
    p.terminate()
    p.wait(timeout=10)

for role, S in servers.items():
    check(S.stop() == 0, f"{role}: stops with status 0")
