#!/usr/bin/env bash
# The model registry on an s3:// model store: s3rver behind the proxy that
# checks every request's SigV4 signature with botocore (s3lib.sh).
# `recsys train` uploads and registers s3:// versions; a `recsys serve`
# polling every 300 ms downloads, checks and loads them and follows a
# promotion; an object changed in s3rver behind the registry's back is
# refused by its checksum; a wrong secret (403) and a store that is down
# fail the training clearly, register nothing and record the run as
# failed; the server keeps serving from memory meanwhile. A store that
# stops answering (the proxy stopped with SIGSTOP) must not hold up a
# server's stop or its admin calls. The servers run with
# RECSYS_S3_TIMEOUT=1 so that a hung download gives up within ~5 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"

s3_start "$T/s3" models || { fail "s3rver and the proxy start"; finish; }
pass "s3rver on port $S3_SERVER_PORT, the verifying proxy on port $S3_PROXY_PORT"
SERVER_PIDS=()
stop_servers() {
  local pid
  [ -z "${S3_PROXY_PID:-}" ] || kill -CONT "$S3_PROXY_PID" 2>/dev/null
  for pid in "${SERVER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  SERVER_PIDS=()
}
# Stop the servers first, then what s3_start and lib.sh clean up.
eval "words=($(trap -p EXIT))"
# shellcheck disable=SC2064,SC2154 # expand the previous trap now
trap "stop_servers; ${words[2]}" EXIT

# serve_start NAME: a server on the store, logging into $T/NAME.log; sets
# LAST_PID and LAST_PORT.
serve_start() {
  LAST_PORT=
  RECSYS_S3_TIMEOUT=1 "$RECSYS" serve --db "$DB" --models "$U" --listen 127.0.0.1:0 --poll 300ms \
    --log-level info >"$T/$1.out" 2>"$T/$1.log" &
  LAST_PID=$!
  SERVER_PIDS+=("$LAST_PID")
  for _ in $(seq 100); do
    LAST_PORT=$(sed -n 's/^serving on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/$1.out")
    [ -n "$LAST_PORT" ] && break
    kill -0 "$LAST_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$LAST_PORT" ]; then fail "$1 does not start"; sed "s/^/  $1.log: /" "$T/$1.log"; return 1; fi
  pass "$1 on port $LAST_PORT"
}
# elapsed_ms T0: milliseconds since T0 (from date +%s%N).
elapsed_ms() { echo $((($(date +%s%N) - $1) / 1000000)); }

export TMPDIR="$T/tmp" # downloads and artifacts before upload; checked for leftovers
mkdir -p "$TMPDIR"
DB="sqlite://$T/shop.db"
PREFIX=registry/test
U="s3://$S3_BUCKET/$PREFIX"
WEAK=(--factors 2 --iterations 1)
train=("$RECSYS" train --db "$DB" --models "$U" --json --log-level warn)

# json FILE KEY: KEY of the last line of FILE, a JSON object.
json() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])[sys.argv[2]])' "$1" "$2"; }
# versions: "1:production 2:candidate ..." from the registry.
versions() {
  "$RECSYS" models list --db "$DB" --json |
    python3 -c 'import json,sys; print(" ".join(str(v["version"]) + ":" + v["stage"] for v in map(json.loads, sys.stdin)))'
}
served() { curl -s --max-time 5 "http://127.0.0.1:${1:-$PORT}/readyz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["model_version"])' 2>/dev/null; }
metric() { curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" | sed -n "s/^$1 //p"; }
# wait_served V WHAT: the server serves version V within 4 s.
wait_served() {
  local t0 got
  t0=$(date +%s%N)
  for _ in $(seq 80); do got=$(served); [ "$got" = "$1" ] && break; sleep 0.05; done
  if [ "$got" = "$1" ]; then pass "$2: the server serves version $1 after $((($(date +%s%N) - t0) / 1000000)) ms"
  else fail "$2: the server serves version '$got', not $1"; fi
}
# hold V WHAT: the server keeps serving V for 1.5 s (5 polls).
hold() {
  local seen=""
  for _ in $(seq 15); do seen="$seen $(served)"; sleep 0.1; done
  if ! tr ' ' '\n' <<<"$seen" | grep -v '^$' | grep -qvx "$1"; then
    pass "$2: the server keeps serving version $1"
  else fail "$2: the server served$seen"; fi
}
# recommend V: /v1/recommend answers 200 from version V.
recommend() {
  curl -s --max-time 5 -o "$T/rec.json" -w '%{http_code}' \
    "http://127.0.0.1:$PORT/v1/recommend?user_id=$USER_ID&n=5" >"$T/rec.code"
  if [ "$(cat "$T/rec.code")" = 200 ] && [ "$(json "$T/rec.json" model_version)" = "$1" ]; then
    pass "$2: /v1/recommend answers from version $1"
  else fail "$2: /v1/recommend: $(cat "$T/rec.code") $(head -c 300 "$T/rec.json")"; fi
}
object() { echo "/$S3_BUCKET/$PREFIX/$(basename "$1")"; }

run "generate" 0 "$RECSYS" generate --users 300 --items 120 --events 15000 --seed 5 --out "$T/gen" --log-level warn
run "import items" 0 "$RECSYS" import --db "$DB" --format items-csv "$T/gen/items.csv" --log-level warn
run "import events" 0 "$RECSYS" import --db "$DB" --format csv "$T/gen/events.csv" --log-level warn
USER_ID=$(sed -n '2s/,.*//p' "$T/gen/events.csv")

# --- a version on S3 ---------------------------------------------------------------
run "train to s3" 0 "${train[@]}" "${WEAK[@]}" || finish
V1_URI=$(json "$T/out" uri)
[ "$(json "$T/out" version):$(json "$T/out" stage)" = 1:production ] || fail "version 1 not in production: $(tail -1 "$T/out")"
case "$V1_URI" in "$U"/model-*.rsm) pass "its uri is $V1_URI" ;; *) fail "uri '$V1_URI'" ;; esac
[ "$(s3_proxy_count "^PUT $(object "$V1_URI") 200")" -eq 1 ] || fail "no signed PUT of the artifact seen by the proxy"
curl -s -o "$T/v1.rsm" "http://127.0.0.1:$S3_SERVER_PORT$(object "$V1_URI")"
sum=$("$RECSYS" models list --db "$DB" --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["checksum"])')
[ "$(sha256sum <"$T/v1.rsm" | cut -d' ' -f1)" = "$sum" ] || fail "the object in s3rver does not match the registered checksum"

# --- a server loading from S3 ------------------------------------------------------------
serve_start serve || finish
SERVER_PID=$LAST_PID PORT=$LAST_PORT
[ "$(served)" = 1 ] || fail "the server does not serve version 1: $(served)"
recommend 1 "at start"
has "$T/serve.log" "msg=\"model loaded\" version=1 uri=$V1_URI"
[ "$(s3_proxy_count "^GET $(object "$V1_URI") 200")" -ge 1 ] || fail "the server did not download version 1 through the proxy"

run "a better training, promoted" 0 "${train[@]}" --promote always
V2_URI=$(json "$T/out" uri)
[ "$(json "$T/out" version):$(json "$T/out" stage)" = 2:production ] || fail "version 2: $(tail -1 "$T/out")"
wait_served 2 "after the second training"
recommend 2 "after the swap"

# --- an object changed behind the registry's back -------------------------------------
run "a candidate" 0 "${train[@]}" "${WEAK[@]}" --promote never
V3_URI=$(json "$T/out" uri)
[ "$(json "$T/out" version):$(json "$T/out" stage)" = 3:candidate ] || fail "version 3: $(tail -1 "$T/out")"
curl -s -o "$T/v3.rsm" "http://127.0.0.1:$S3_SERVER_PORT$(object "$V3_URI")"
python3 - "$T/v3.rsm" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
for i in range(200, 264):
    b[i] ^= 0x5A
open(sys.argv[1], "wb").write(b)
PY
[ "$(s3_direct -X PUT --data-binary @"$T/v3.rsm" "$(object "$V3_URI")")" = 200 ] ||
  fail "tamper with version 3 in s3rver"
f0=$(metric recsys_model_reload_failures_total)
run "promote the changed version 3" 0 "$RECSYS" models promote 3 --db "$DB"
hold 2 "with a changed production object"
f1=$(metric recsys_model_reload_failures_total)
if [ "${f1:-0}" -gt "${f0:-0}" ]; then pass "recsys_model_reload_failures_total $f0 -> $f1"
else fail "recsys_model_reload_failures_total did not increase ($f0 -> $f1)"; fi
has "$T/serve.log" "version 3's artifact $V3_URI does not match its checksum"
recommend 2 "with a changed production object"
run "promote 2 back" 0 "$RECSYS" models promote 2 --db "$DB"
sleep 0.7
left=$(find "$TMPDIR" -name '.recsys-*' | wc -l)
if [ "$left" -eq 0 ]; then pass "no download left in TMPDIR"
else fail "$left files left in TMPDIR: $(ls -A "$TMPDIR")"; fi

# --- retention on S3 -------------------------------------------------------------------------
# 3 is the rollback target now (the last promoted before 2 came back): a
# candidate with --keep-versions 1 keeps 4 (newest), 3 and 2; 1 goes, row
# and object.
run "a candidate with --keep-versions 1" 0 "${train[@]}" "${WEAK[@]}" --promote never --keep-versions 1
[ "$(versions)" = "4:candidate 3:archived 2:production" ] || fail "after retention: $(versions)"
[ "$(s3_direct -I "$(object "$V1_URI")")" = 404 ] || fail "version 1's object is still in the bucket"
[ "$(s3_proxy_count "^DELETE $(object "$V1_URI") 204")" -eq 1 ] || fail "no signed DELETE of version 1's object"
[ "$(s3_direct -I "$(object "$V2_URI")")" = 200 ] || fail "production's object is gone"
[ "$(s3_direct -I "$(object "$V3_URI")")" = 200 ] || fail "the rollback target's object is gone"

# --- a wrong secret -------------------------------------------------------------------------
before=$(versions)
[ "$before" = "4:candidate 3:archived 2:production" ] || fail "versions before the failures: '$before'"
n403=$(s3_proxy_count "^PUT .* 403 SignatureDoesNotMatch")
env AWS_SECRET_ACCESS_KEY=not-the-secret "${train[@]}" "${WEAK[@]}" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -ne 0 ]; then pass "a wrong secret: exit status $rc"
else fail "a wrong secret: training succeeded"; fi
has "$T/err" "PUT refused (403 SignatureDoesNotMatch"
has "$T/err" "check AWS_SECRET_ACCESS_KEY"
has "$T/err" "the production model is unchanged"
[ "$(s3_proxy_count "^PUT .* 403 SignatureDoesNotMatch")" -gt "$n403" ] || fail "the proxy refused no PUT"
if [ "$(versions)" = "$before" ]; then pass "no version registered ($before)"
else fail "versions: $before -> $(versions)"; fi
bad_run=$(sed -n 's/.*run \([0-9A-Za-z-]*\) failed: .*/\1/p' "$T/err" | head -1)
run "show the refused run" 0 "$RECSYS" runs show "$bad_run" --db "$DB"
has "$T/out" '"status":"failed"'
has "$T/out" "403 SignatureDoesNotMatch"
[ "$(s3_direct -I "/$S3_BUCKET/$PREFIX/model-$bad_run.rsm")" = 404 ] || fail "an object of the refused run is stored"

# --- a store that stops answering -------------------------------------------------------------
serve_start serve-b || finish
B_PID=$LAST_PID B_PORT=$LAST_PORT
[ "$(served "$B_PORT")" = 2 ] || fail "serve-b does not serve version 2: $(served "$B_PORT")"
kill -STOP "$S3_PROXY_PID"
run "promote 4 while the store hangs" 0 "$RECSYS" models promote 4 --db "$DB"
sleep 0.6 # both servers' polls are now waiting for version 4's object
t0=$(date +%s%N)
if [ "$(served)" = 2 ] && [ "$(elapsed_ms "$t0")" -lt 1000 ]; then pass "a read answers at once while a download hangs"
else fail "/readyz while a download hangs"; fi
# An admin call on one server while the other is asked to stop.
curl -s -o "$T/promote.json" -w '%{http_code} %{time_total}' --max-time 3 -X POST \
  "http://127.0.0.1:$PORT/v1/models/2/promote" >"$T/promote.code" &
curl_pid=$!
t0=$(date +%s%N)
kill "$B_PID"
wait "$B_PID"
rc=$?
ms=$(elapsed_ms "$t0")
SERVER_PIDS=("$SERVER_PID")
if [ $rc -eq 0 ] && [ "$ms" -lt 2000 ]; then pass "SIGTERM while a download hangs: stopped in $ms ms"
else fail "SIGTERM while a download hangs: the server took $ms ms to stop (status $rc); it waits for the download to give up"; fi
wait "$curl_pid"
read -r code secs <"$T/promote.code"
if [ "$code" = 200 ]; then pass "POST /v1/models/2/promote while a download hangs: 200 in $secs s"
else fail "POST /v1/models/2/promote while a download hangs: no answer within 3 s (got '$code' after $secs s)"; fi
kill -CONT "$S3_PROXY_PID"
wait_served 2 "once the store answers again"
if [ "$(versions)" = "4:archived 3:archived 2:production" ]; then pass "the late-answered promotion took effect: $(versions)"
else fail "versions: $(versions)"; fi
left=$(find "$TMPDIR" -name '.recsys-*' | wc -l)
if [ "$left" -eq 0 ]; then pass "no partial download left in TMPDIR"
else fail "$left files left in TMPDIR: $(ls -A "$TMPDIR")"; fi

# --- the store is down ------------------------------------------------------------------------
before=$(versions)
s3_stop
t0=$(date +%s%N)
env RECSYS_S3_TIMEOUT=1 "${train[@]}" "${WEAK[@]}" >"$T/out" 2>"$T/err"
rc=$?
ms=$(elapsed_ms "$t0")
if [ $rc -ne 0 ]; then pass "S3 down: exit status $rc after $ms ms"
else fail "S3 down: training succeeded"; fi
[ "$ms" -lt 15000 ] || fail "S3 down took $ms ms"
has "$T/err" "failed: cannot reach http://127.0.0.1:$S3_PROXY_PORT"
has "$T/err" "the production model is unchanged"
if [ "$(versions)" = "$before" ]; then pass "no version registered ($before)"
else fail "versions: $before -> $(versions)"; fi
down_run=$(sed -n 's/.*run \([0-9A-Za-z-]*\) failed: .*/\1/p' "$T/err" | head -1)
run "show the failed run" 0 "$RECSYS" runs show "$down_run" --db "$DB"
has "$T/out" '"status":"failed"'
has "$T/out" "cannot reach http://127.0.0.1:$S3_PROXY_PORT"
run "runs list --status failed" 0 "$RECSYS" runs list --db "$DB" --status failed --json
[ "$(grep -c '"status":"failed"' "$T/out")" -eq 2 ] || fail "expected the 2 failed runs"
hold 2 "while S3 is down"
recommend 2 "while S3 is down"
f0=$(metric recsys_model_reload_failures_total)
run "promote 4 while S3 is down" 0 "$RECSYS" models promote 4 --db "$DB"
hold 2 "when the new production version cannot be fetched"
recommend 2 "when the new production version cannot be fetched"
f1=$(metric recsys_model_reload_failures_total)
[ "${f1:-0}" -gt "${f0:-0}" ] || fail "recsys_model_reload_failures_total did not increase ($f0 -> $f1)"
has "$T/serve.log" "cannot reach http://127.0.0.1:$S3_PROXY_PORT"
t0=$(date +%s%N)
kill "$SERVER_PID"
wait "$SERVER_PID"
rc=$?
ms=$(elapsed_ms "$t0")
SERVER_PIDS=()
if [ $rc -eq 0 ]; then pass "the server stops on SIGTERM ($ms ms)"
else fail "the server exited with $rc"; fi
left=$(find "$TMPDIR" -name '.recsys-*' | wc -l)
if [ "$left" -eq 0 ]; then pass "nothing left in TMPDIR"
else fail "$left files left in TMPDIR: $(ls -A "$TMPDIR")"; fi
finish
