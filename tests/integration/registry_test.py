"""The model registry end to end, with real processes on 127.0.0.1.

    registry_test.py RECSYS DIR

DIR holds shop.db (a small generated shop, imported; no model yet) and
sched.db (a larger one for the training thread). Checks, in order:

  1. promotion: two servers polling every 300 ms follow a better training
     to production; a worse one stays a candidate (its run and version say
     why) and both keep serving; `models rollback`, `models promote` and
     POST /v1/models/{v}/promote, /v1/models/rollback move both; repeated
     rollbacks walk back until there is nothing left (exit 4, HTTP 409).
  2. retention: --keep-versions 2 deletes old versions' rows and files but
     keeps production and the rollback target (which still loads).
  3. a `recsys train` killed with SIGKILL while its run is "running":
     nothing registered, nothing uploaded, servers unchanged; the next
     training marks the run failed because its process exited.
  4. a damaged artifact promoted to production is refused by its checksum
     on both servers (logged, counted in /metrics); the old one serves.
     POST /v1/train on one of them (no --retrain-every): both follow.
  5. the training thread of a third server: --retrain-every 2s makes
     "retrain" runs while /v1/recommend keeps answering 200; POST
     /v1/train answers 202 with a run that goes running -> finished, 409
     with its id while it runs, and 401 without the API key; runs a page
     at a time, `runs list` filters, `runs export`; SIGTERM during a
     training records it as failed and registers nothing.

Prints one line per check and carries on after a failed check where the
next ones still mean something; exits 1 if any failed.
"""
import atexit
import csv
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

from httpcheck import Server, check

RECSYS, DIR = sys.argv[1], sys.argv[2]
DB = f"sqlite://{DIR}/shop.db"
MODELS_DIR = f"{DIR}/models"
MODELS = f"file://{MODELS_DIR}"
WEAK = ("--factors", "2", "--iterations", "1")
POLL = 0.3  # the servers' --poll, in seconds
FOLLOW = 4.0  # how long servers may take to follow a change (>10 polls)
failed = []
T0 = time.time()


def expect(cond, what, detail=""):
    """A check that records a failure and lets the test go on."""
    if cond:
        print(f"ok: {what}")
    else:
        print(f"FAIL: {what} {detail}")
        failed.append(what)
    return bool(cond)


def must(cond, what, detail=""):
    """A quiet prerequisite: says nothing unless it fails, then stops."""
    if not cond:
        check(cond, what, detail)


def cli(*args, env=None):
    return subprocess.run([RECSYS, *args], capture_output=True, text=True, env=env, timeout=120)


def train(*extra, db=DB, models=MODELS):
    """recsys train --json; the summary line as a dict (fatal on failure)."""
    p = cli("train", "--db", db, "--models", models, "--json", "--log-level", "warn", *extra)
    check(p.returncode == 0, f"train {' '.join(extra)}".rstrip(), p.stderr[-600:])
    return json.loads(p.stdout.splitlines()[-1])


def versions(db=DB):
    p = cli("models", "list", "--db", db, "--json")
    must(p.returncode == 0, "models list", p.stderr)
    return [json.loads(line) for line in p.stdout.splitlines()]


def production(db=DB):
    prod = [v["version"] for v in versions(db) if v["stage"] == "production"]
    if len(prod) > 1:
        expect(False, "at most one version in production", prod)
    return prod[0] if prod else None


def run_show(run_id, db=DB):
    p = cli("runs", "show", run_id, "--db", db)
    must(p.returncode == 0, f"runs show {run_id}", p.stderr)
    return json.loads(p.stdout)


def served(server):
    st, doc, _, _ = server.request("GET", "/readyz")
    return doc["model_version"] if st == 200 else None


def wait_all(servers, version, what):
    """Waits until every server serves version; checks it."""
    t0 = time.time()
    got = []
    while time.time() - t0 < FOLLOW:
        got = [served(s) for s in servers]
        if all(g == version for g in got):
            break
        time.sleep(0.05)
    who = "both servers serve" if len(servers) > 1 else "it serves"
    return expect(all(g == version for g in got),
                  f"{what}: {who} version {version} after {time.time() - t0:.2f} s",
                  f"they serve {got}")


def hold(servers, version, what, seconds=4 * POLL):
    """Checks that every server keeps serving version for a few polls."""
    seen = set()
    t0 = time.time()
    while time.time() - t0 < seconds:
        seen.update(served(s) for s in servers)
        time.sleep(0.05)
    return expect(seen == {version}, f"{what}: the servers keep serving version {version}",
                  f"saw {sorted(seen, key=str)}")


def metric(server, name):
    st, _, _, text = server.request("GET", "/metrics")
    m = re.search(rf"^{re.escape(name)} (\S+)$", text.decode(), re.M)
    return float(m.group(1)) if m else None


def model_files():
    return sorted(os.listdir(MODELS_DIR))


def section(title):
    print(f"--- {title} ({time.time() - T0:.1f} s)")


# --- 1. promotion, rollback, promotion by hand --------------------------------
section("promotion")
v1 = train(*WEAK)
check(v1["version"] == 1 and v1["stage"] == "production", "a first, weak version 1 in production",
      v1)
A = Server(RECSYS, DB, MODELS, f"{DIR}/serve-a.log", ("--poll", "300ms"))
B = Server(RECSYS, DB, MODELS, f"{DIR}/serve-b.log", ("--poll", "300ms"))
BOTH = (A, B)
expect([served(s) for s in BOTH] == [1, 1], "both servers start on version 1")

v2 = train()
expect(v2["version"] == 2 and v2["stage"] == "production" and v2["ndcg"] > 1.5 * v1["ndcg"]
       and v2["uri"].startswith(MODELS + "/"), "a better version 2 goes to production", v2)
wait_all(BOTH, 2, "after a better training")
user = next(csv.DictReader(open(f"{DIR}/gen/events.csv")))["user_id"]
st, doc, _, _ = A.request("GET", f"/v1/recommend?user_id={user}&n=5")
expect(st == 200 and doc["model_version"] == "2", "recommendations come from version 2", doc)

v3 = train(*WEAK)
expect(v3["version"] == 3 and v3["stage"] == "candidate", "a worse version 3 stays a candidate",
       v3)
note = run_show(v3["run_id"])["note"] or ""
expect(note.startswith("kept as a candidate: held-out ndcg") and "production version 2" in note,
       "its run says why it was not promoted", note)
vs = {v["version"]: v for v in versions()}
expect(vs[3]["stage"] == "candidate" and vs[3]["note"] == note and vs[2]["stage"] == "production",
       "models list: 3 candidate (same note), 2 production", vs.get(3))
hold(BOTH, 2, "after a worse training")
st, doc, _, _ = B.request("GET", "/v1/models")
expect(st == 200 and doc["production"] == 2 and doc["serving"] == 2 and doc["name"] == "default"
       and [v["version"] for v in doc["versions"]] == [3, 2, 1], "GET /v1/models", doc)

p = cli("models", "rollback", "--db", DB)
expect(p.returncode == 0 and "version 1 is in production again (version 2 archived)" in p.stdout,
       "models rollback: back to version 1", p.stdout + p.stderr)
wait_all(BOTH, 1, "after models rollback")
p = cli("models", "promote", "2", "--db", DB)
expect(p.returncode == 0 and "version 2 is in production (replacing version 1)" in p.stdout,
       "models promote 2", p.stdout + p.stderr)
wait_all(BOTH, 2, "after models promote 2")
st, doc, _, _ = A.request("POST", "/v1/models/3/promote")
expect(st == 200 and doc == {"version": 3, "stage": "production", "replaced": 2},
       "POST /v1/models/3/promote", doc)
wait_all([A], 3, "the server that promoted loads it without waiting for its poll")
wait_all(BOTH, 3, "after POST /v1/models/3/promote")
A.problem("/v1/models/99/promote", 404, "99", method="POST")
A.problem("/v1/models/abc/promote", 400, "not a version number", method="POST")
expect(production() == 3, "failed promotions changed nothing")

# Rollbacks walk back through the versions that were in production: 3 was
# promoted last, then 2 (by hand), then 1.
st, doc, _, _ = B.request("POST", "/v1/models/rollback")
expect(st == 200 and doc == {"version": 2, "stage": "production", "retired": 3},
       "POST /v1/models/rollback: back to version 2", doc)
wait_all(BOTH, 2, "after POST /v1/models/rollback")
p = cli("models", "rollback", "--db", DB)
expect(p.returncode == 0 and "version 1 is in production again (version 2 archived)" in p.stdout,
       "a second rollback goes further back, to version 1", p.stdout + p.stderr)
wait_all(BOTH, 1, "after the second rollback")
p = cli("models", "rollback", "--db", DB)
expect(p.returncode == 4 and "rollback: no earlier production version of default to roll back to"
       in p.stderr, "a third rollback: nothing left (exit 4)", f"{p.returncode} {p.stderr}")
A.problem("/v1/models/rollback", 409, "no earlier production version", method="POST")
expect(production() == 1, "the refused rollbacks changed nothing")
hold(BOTH, 1, "after the refused rollbacks")
p = cli("models", "promote", "2", "--db", DB)
expect(p.returncode == 0, "promote 2 again", p.stderr)
wait_all(BOTH, 2, "after promote 2")

# --- 2. retention --------------------------------------------------------------
section("retention")
# Now 2 is in production and 1 is the rollback target; 3 is old. Three
# candidates, the last with --keep-versions 2: 6 and 5 stay as the newest
# two, 2 and 1 stay as production and rollback target, 4 and 3 go.
for n in (4, 5):
    c = train(*WEAK, "--promote", "never")
    expect(c["version"] == n and c["stage"] == "candidate", f"candidate {n}", c)
before = {v["version"]: v for v in versions()}
c6 = train(*WEAK, "--promote", "never", "--keep-versions", "2")
expect(c6["version"] == 6 and c6["stage"] == "candidate", "candidate 6 with --keep-versions 2", c6)
after = {v["version"]: v for v in versions()}
expect(sorted(after) == [1, 2, 5, 6], "the registry keeps 6, 5, production 2 and rollback target 1",
       sorted(after))
expect(after.get(2, {}).get("stage") == "production", "version 2 still in production")
want_files = sorted(os.path.basename(v["uri"]) for v in after.values())
expect(model_files() == want_files, "the model folder holds exactly the kept versions' files",
       f"{model_files()} vs {want_files}")
for n in (3, 4):
    gone = before[n]["uri"][len("file://"):]
    expect(not os.path.exists(gone), f"version {n}'s artifact is deleted", gone)
p = cli("models", "rollback", "--db", DB)
expect(p.returncode == 0 and "version 1 is in production again" in p.stdout,
       "the kept rollback target still rolls back", p.stdout + p.stderr)
wait_all(BOTH, 1, "its artifact loads")
p = cli("models", "promote", "2", "--db", DB)
wait_all(BOTH, 2, "after promote 2")

# --- 3. a training killed mid-run ---------------------------------------------------
section("a killed training")
before = [(v["version"], v["stage"]) for v in versions()]
files = model_files()
slow = subprocess.Popen([RECSYS, "train", "--db", DB, "--models", MODELS, "--model", "als",
                         "--factors", "256", "--iterations", "1000", "--log-level", "warn"],
                        stdout=subprocess.DEVNULL, stderr=open(f"{DIR}/killed-train.log", "w"))
atexit.register(lambda: slow.poll() is None and slow.kill())
killed = None
deadline = time.time() + 15
while time.time() < deadline and killed is None and slow.poll() is None:
    p = cli("runs", "list", "--db", DB, "--status", "running", "--json")
    mine = [r for r in map(json.loads, p.stdout.splitlines()) if r["pid"] == slow.pid]
    if mine:
        killed = mine[0]
    else:
        time.sleep(0.05)
check(killed is not None and killed["status"] == "running" and killed["kind"] == "train",
      "runs list --status running shows the slow training", killed)
os.kill(slow.pid, signal.SIGKILL)
slow.wait()
expect(slow.returncode == -signal.SIGKILL, "it is killed", slow.returncode)
expect([(v["version"], v["stage"]) for v in versions()] == before,
       "no version registered, no stage changed", versions())
expect(model_files() == files, "nothing uploaded to the model store", model_files())
hold(BOTH, 2, "after the kill")
expect(run_show(killed["id"])["status"] == "running", "until a job starts, the run says running")
c7 = train(*WEAK, "--promote", "never")
expect(c7["version"] == 7 and c7["stage"] == "candidate", "the next training registers 7", c7)
r = run_show(killed["id"])
expect(r["status"] == "failed" and "exited" in (r["error"] or "") and r["ended_ms"]
       and r["version"] is None, "the killed run is marked failed: its process exited", r)
p = cli("runs", "list", "--db", DB, "--status", "failed", "--json")
expect(killed["id"] in p.stdout, "runs list --status failed lists it")
expect(production() == 2, "production is still version 2")

# --- 4. a damaged artifact ------------------------------------------------------------
section("checksums")
c8 = train(*WEAK, "--promote", "never")
expect(c8["version"] == 8 and c8["stage"] == "candidate", "candidate 8", c8)
path = c8["uri"][len("file://"):]
with open(path, "r+b") as f:
    f.seek(200)
    orig = f.read(64)
    f.seek(200)
    f.write(bytes(b ^ 0x5A for b in orig))
fails0 = [metric(s, "recsys_model_reload_failures_total") for s in BOTH]
p = cli("models", "promote", "8", "--db", DB)
expect(p.returncode == 0, "the damaged version 8 is promoted", p.stderr)
hold(BOTH, 2, "with a damaged production artifact")
fails1 = [metric(s, "recsys_model_reload_failures_total") for s in BOTH]
expect(all(b > a for a, b in zip(fails0, fails1)),
       "recsys_model_reload_failures_total increases on both", f"{fails0} -> {fails1}")
for name in ("serve-a.log", "serve-b.log"):
    log = open(f"{DIR}/{name}").read()
    expect("new model refused" in log and "version 8's artifact" in log
           and "does not match its checksum" in log, f"{name}: the refusal is logged")
st, doc, _, _ = A.request("GET", "/v1/models")
expect(st == 200 and doc["production"] == 8 and doc["serving"] == 2,
       "GET /v1/models: production 8, serving 2", {k: doc[k] for k in ("production", "serving")})
st, doc, _, _ = B.request("GET", f"/v1/recommend?user_id={user}&n=5")
expect(st == 200 and doc["model_version"] == "2", "recommendations still come from version 2")
p = cli("models", "promote", "2", "--db", DB)
expect(p.returncode == 0, "promote 2 back", p.stderr)
time.sleep(2 * POLL)
fails2 = [metric(s, "recsys_model_reload_failures_total") for s in BOTH]
time.sleep(3 * POLL)
fails3 = [metric(s, "recsys_model_reload_failures_total") for s in BOTH]
expect(fails2 == fails3, "no more refusals once production is sound again", f"{fails2} {fails3}")
expect([served(s) for s in BOTH] == [2, 2], "both still serve version 2")

# A server without --retrain-every still trains on POST /v1/train; the
# other server follows the version it promotes.
st, doc, _, _ = A.request("POST", "/v1/train")
expect(st == 202, "POST /v1/train on a server without --retrain-every: 202", f"{st} {doc}")
run_id = doc.get("run_id", "") if st == 202 else ""
deadline = time.time() + 20
r = {"status": "running"}
while run_id and time.time() < deadline and r["status"] == "running":
    time.sleep(0.1)
    r = run_show(run_id)
expect(r["status"] == "finished" and r["kind"] == "train" and r["version"] == 9
       and (r.get("note") or "").startswith("promoted: held-out ndcg"),
       "its run finishes and version 9 is promoted", r)
wait_all(BOTH, 9, "after the server's own training")
expect(A.stop() == 0 and B.stop() == 0, "both servers stop on SIGTERM")

# --- 5. the training thread --------------------------------------------------------------
section("training thread")
SDB = f"sqlite://{DIR}/sched.db"
SMODELS = f"file://{DIR}/sched-models"
KEY = "registry-test-key"
C = Server(RECSYS, SDB, SMODELS, f"{DIR}/serve-sched.log",
           ("--poll", "300ms", "--retrain-every", "2s"), env=dict(os.environ, RECSYS_API_KEY=KEY))
expect(served(C) == 0, "no version yet: popularity from the store (version 0)")
suser = next(csv.DictReader(open(f"{DIR}/gen2/events.csv")))["user_id"]
stop = threading.Event()
answers = []  # (start ms, end ms, status)


def hammer():
    """Steady traffic, paced so that it leaves the training some CPU."""
    conn = http.client.HTTPConnection("127.0.0.1", C.port, timeout=10)
    while not stop.wait(0.004):
        t0 = time.time() * 1000
        try:
            st, _, _, _ = C.request("GET", f"/v1/recommend?user_id={suser}&n=10", conn=conn)
        except Exception as e:  # a dropped connection is a failure too
            st = repr(e)
            conn = http.client.HTTPConnection("127.0.0.1", C.port, timeout=10)
        answers.append((t0, time.time() * 1000, st))


threads = [threading.Thread(target=hammer) for _ in range(2)]
for t in threads:
    t.start()
auth = {"Authorization": f"Bearer {KEY}"}
in_progress_seen = False
retrains = []
deadline = time.time() + 25
while time.time() < deadline:
    in_progress_seen |= metric(C, "recsys_training_in_progress") == 1
    st, doc, _, _ = C.request("GET", "/v1/runs?kind=retrain&status=finished")
    retrains = doc["runs"] if st == 200 else []
    if len(retrains) >= 2:
        break
    time.sleep(0.1)
expect(len(retrains) >= 2 and all(r["kind"] == "retrain" and r["version"] for r in retrains),
       f"--retrain-every 2s: {len(retrains)} retrain runs finished", retrains[:1])
expect(in_progress_seen, "recsys_training_in_progress is 1 while one runs")
newest = retrains[0]["version"] if retrains else None
t0 = time.time()
while time.time() - t0 < FOLLOW and served(C) != production(SDB):
    time.sleep(0.05)
expect(served(C) == production(SDB) and production(SDB) is not None,
       "the server serves the production version its retraining made",
       f"{served(C)} {production(SDB)} newest {newest}")

C.problem("/v1/train", 401, "needs 'Authorization: Bearer", method="POST")
C.problem("/v1/train", 401, "Bearer", method="POST", headers={"Authorization": "Bearer wrong"})
print(f"--- POST /v1/train ({time.time() - T0:.1f} s)")
started = None
deadline = time.time() + 20
while time.time() < deadline:  # a scheduled retrain may be running: 409 until it ends
    st, doc, _, _ = C.request("POST", "/v1/train", headers=auth)
    if st != 409:
        break
    time.sleep(0.1)
expect(st == 202 and doc["status"] == "running" and set(doc) == {"run_id", "status"},
       "POST /v1/train: 202 with a run id", f"{st} {doc}")
run_id = doc["run_id"] if st == 202 else ""
st2, doc2, r2, _ = C.request("POST", "/v1/train", headers=auth)
expect(st2 == 409 and r2.getheader("Content-Type") == "application/problem+json"
       and run_id in doc2.get("detail", ""), "a second POST while it runs: 409 naming it",
       f"{st2} {doc2}")
st, doc, _, _ = C.request("GET", f"/v1/runs/{run_id}")
expect(st == 200 and doc["status"] == "running" and doc["kind"] == "train" and doc["pid"] == C.proc.pid,
       "GET /v1/runs/{id}: running", doc)
deadline = time.time() + 20
while time.time() < deadline and doc.get("status") == "running":
    time.sleep(0.1)
    st, doc, _, _ = C.request("GET", f"/v1/runs/{run_id}")
expect(doc.get("status") == "finished" and doc["version"] and doc["error"] is None
       and doc["note"], "... then finished with a version", doc)
if doc.get("note", "").startswith("promoted"):
    wait_all((C,), doc["version"], "its promoted version")
st, doc, _, _ = C.request("POST", "/v1/models/rollback", headers={})
expect(st == 401, "POST /v1/models/rollback without the key: 401", st)
time.sleep(0.5)
stop_ms = time.time() * 1000
stop.set()
for t in threads:
    t.join()
bad = [a for a in answers if a[2] != 200]
expect(not bad and len(answers) > 100,
       f"/v1/recommend answered 200 throughout ({len(answers)} requests)", bad[:5])
st, doc, _, _ = C.request("GET", "/v1/runs?limit=500")
runs = [r for r in doc["runs"] if r["status"] == "finished" and r["ended_ms"] < stop_ms]
during = [sum(1 for a in answers if a[0] >= r["started_ms"] and a[1] <= r["ended_ms"])
          for r in runs]
expect(runs and all(n >= 5 for n in during),
       "requests were answered while each training ran", list(zip([r["id"] for r in runs], during)))
slowest = max((a[1] - a[0] for a in answers), default=0)
expect(slowest < 2000, f"slowest request {slowest:.0f} ms")
finished = metric(C, 'recsys_training_runs_total{status="finished"}')
expect(finished is not None and finished >= max(3, len(runs)) and metric(C, 'recsys_training_runs_total{status="failed"}') == 0,
       f"recsys_training_runs_total: {finished} finished, none failed", len(runs))
expect(metric(C, "recsys_model_version") == served(C), "recsys_model_version is the one served")

# Runs over HTTP a page at a time, and the CLI's filters and export. The
# scheduler may start a run meanwhile: lists are compared on the runs of
# the first one (keyset paging puts a new run on the first page only).
st, doc, _, _ = C.request("GET", "/v1/runs?limit=500")
listed = [r["id"] for r in doc["runs"]]


def same_runs(ids):
    return [i for i in ids if i in set(listed)] == listed


pages, cursor = [], None
for _ in range(20):
    st, doc, _, _ = C.request("GET", "/v1/runs?limit=2" + (f"&cursor={cursor}" if cursor else ""))
    must(st == 200, "GET /v1/runs a page at a time", doc)
    pages += doc["runs"]
    cursor = doc["next_cursor"]
    if not cursor:
        break
expect(same_runs([r["id"] for r in pages]) and len(listed) >= 3,
       f"GET /v1/runs in pages of 2 gives the same {len(listed)} runs as one page")
expect(all(a["started_ms"] >= b["started_ms"] for a, b in zip(pages, pages[1:])), "newest first")
p = cli("runs", "list", "--db", SDB, "--kind", "retrain", "--json")
kinds = [json.loads(line)["kind"] for line in p.stdout.splitlines()]
expect(len(kinds) >= 2 and set(kinds) == {"retrain"}, f"runs list --kind retrain: {len(kinds)} runs")
p = cli("runs", "list", "--db", SDB, "--model", "hybrid", "--limit", "500", "--json")
expect(same_runs([json.loads(line)["id"] for line in p.stdout.splitlines()]),
       "runs list --model hybrid: every run")
p = cli("runs", "list", "--db", SDB, "--model", "knn", "--json")
expect(p.returncode == 0 and p.stdout == "", "runs list --model knn: none", p.stdout[:200])
p = cli("runs", "export", "--db", SDB)
expect(same_runs([json.loads(line)["id"] for line in p.stdout.splitlines()]),
       "runs export: every run, newest first")

# A stop during a training ends it early and records it as failed.
deadline = time.time() + 20
while time.time() < deadline:
    st, doc, _, _ = C.request("POST", "/v1/train", headers=auth)
    if st != 409:
        break
    time.sleep(0.1)
check(st == 202, "POST /v1/train once more", f"{st} {doc}")
last = doc["run_id"]
before = [(v["version"], v["stage"]) for v in versions(SDB)]  # none can be added but by it
time.sleep(0.1)
expect(metric(C, "recsys_training_in_progress") == 1, "it is in progress")
t0 = time.time()
code = C.stop()
expect(code == 0, f"SIGTERM during the training stops the server in {time.time() - t0:.2f} s",
       code)
r = run_show(last, SDB)
expect(r["status"] == "failed" and r["error"] and r["version"] is None,
       "the interrupted run is recorded as failed", r)
expect([(v["version"], v["stage"]) for v in versions(SDB)] == before,
       "the interrupted run registered nothing")

print(f"--- {time.time() - T0:.1f} s")
if failed:
    print(f"{len(failed)} check(s) failed")
    sys.exit(1)
print("all passed")
