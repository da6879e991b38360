"""Helpers shared by the Python tests of `recsys serve`: starting a server
on a free port, requests over real HTTP, and checks that print one line
each and stop the test at the first failure."""
import atexit
import http.client
import json
import subprocess
import sys


def check(cond, what, detail=""):
    if not cond:
        print(f"FAIL: {what} {detail}")
        sys.exit(1)
    print(f"ok: {what}")


class Server:
    """A `recsys serve` process on 127.0.0.1 and a free port. db and models
    None: the server takes them from RECSYS_DB and RECSYS_MODELS."""

    def __init__(self, recsys, db, models, log, args=(), env=None):
        where = (["--db", db] if db else []) + (["--models", models] if models else [])
        self.proc = subprocess.Popen(
            [recsys, "serve", *where, "--listen", "127.0.0.1:0",
             "--poll", "1h", "--log-level", "info", *args],
            stdout=subprocess.PIPE, stderr=open(log, "w"), text=True, env=env)
        line = self.proc.stdout.readline()
        check(line.startswith("serving on http://127.0.0.1:"), "server starts", line)
        self.port = int(line.rsplit(":", 1)[1])
        atexit.register(self.kill)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()

    def stop(self):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None

    def request(self, method, path, body=None, conn=None, headers=None):
        """(status, parsed JSON body or None, response, raw body)."""
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        ctype = r.getheader("Content-Type", "")
        doc = json.loads(data) if "json" in ctype and data else None
        return r.status, doc, r, data

    def problem(self, path, status, detail_part, method="GET", body=None, headers=None):
        """Checks for a problem+json answer with status and detail_part."""
        got, doc, r, _ = self.request(method, path, body, headers=headers)
        ok = (got == status and r.getheader("Content-Type") == "application/problem+json"
              and doc["status"] == status and doc["title"] and detail_part in doc["detail"])
        check(ok, f"{method} {path[:60]} -> {status} ({detail_part[:40]})", f"got {got} {doc}")
        return r
