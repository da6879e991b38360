#!/usr/bin/env bash
# Serving benchmark: generates a catalogue, trains ALS (k = 64) into a model
# store, starts `recsys serve` and loads /v1/recommend (a random user per
# request) and /v1/popular with wrk. A summary table on stderr, one JSON line
# per result on stdout and in OUT/serve.json (an array of the same objects).
#   bench/serve/run.sh [RECSYS]      (default build/release/recsys)
# Environment: DURATION (20s), WARMUP (3s), EVENTS (2000000), ITERATIONS (15),
# OUT (build/bench). Exits 1 when a request failed or a step broke, and 0
# otherwise, targets met or not: benchmarks inform, they do not gate.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
recsys=$(realpath -m "${1:-$repo/build/release/recsys}")
out=$(realpath -m "${OUT:-$repo/build/bench}")
duration=${DURATION:-20s}
warmup=${WARMUP:-3s}
events=${EVENTS:-2000000}
iterations=${ITERATIONS:-15}
commit=${RECSYS_COMMIT:-$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)}

users=100000 items=20000 factors=64
wrk_threads=2 connections=64
# The targets: recommend throughput and tail latency, and the server's peak
# memory over the size of the model file it maps.
target_rps=15000 target_p99_ms=5 rss_headroom_mib=64

log() { echo "bench/serve: $*" >&2; }

for tool in wrk curl; do
  command -v "$tool" >/dev/null ||
    { log "$tool is missing (scripts/install-deps --bench installs it)"; exit 1; }
done
[ -x "$recsys" ] || { log "no recsys binary at $recsys (make build, or pass its path)"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/rs-bench-serve-XXXXXX")
pid='' wrk_pid=''
# Stops wrk and the server (TERM, then KILL after 5 s) and removes the temp
# folder, on success, failure or interruption alike.
cleanup() {
  if [ -n "$wrk_pid" ]; then
    kill "$wrk_pid" 2>/dev/null || true
    wait "$wrk_pid" 2>/dev/null || true
  fi
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  [ -z "$pid" ] || wait "$pid" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$T"

# die MESSAGE: says what broke, shows the end of the server's log, exits 1.
die() {
  log "FAILED: $*"
  if [ -s "$T/serve.log" ]; then
    tail -n 20 "$T/serve.log" | sed 's/^/  serve.log: /' >&2
  fi
  exit 1
}

# step NAME CMD...: runs a recsys step with its output on stderr, timed.
step() {
  local name=$1 start=$SECONDS
  shift
  log "$name"
  "$@" >&2 || die "$name: exit status $?"
  log "$name: $((SECONDS - start)) s"
}

# 1. The catalogue, the store and the model.
db="sqlite://$T/shop.db"
step "generate $events events" "$recsys" generate --users "$users" --items "$items" \
  --events "$events" --seed 1 --out "$T/gen" --log-level warn
step "import items" "$recsys" import --db "$db" --format items-csv "$T/gen/items.csv" \
  --log-level warn
step "import events" "$recsys" import --db "$db" --format csv "$T/gen/events.csv" \
  --log-level warn
step "train ($factors factors, $iterations iterations)" "$recsys" train --db "$db" \
  --models "file://$T/models" --no-eval --factors "$factors" --iterations "$iterations" \
  --log-level warn
model_file=$("$recsys" models list --db "$db" --json | python3 -c '
import json, sys
print(next(v["uri"][len("file://"):] for v in map(json.loads, sys.stdin)
           if v["stage"] == "production"))') || die "no model version is in production"
[ -f "$model_file" ] || die "$model_file is missing"
model_bytes=$(stat -c %s "$model_file")

# 2. The server, on a free port (it prints the one it got), until /readyz.
"$recsys" serve --db "$db" --models "file://$T/models" --listen 127.0.0.1:0 --quiet \
  --poll 1h >"$T/serve.out" 2>"$T/serve.log" &
pid=$!
url=
for _ in $(seq 300); do
  kill -0 "$pid" 2>/dev/null || die "recsys serve exited at start"
  url=$(sed -n 's|^serving on \(http://[^ ]*\)$|\1|p' "$T/serve.out")
  [ -z "$url" ] || break
  sleep 0.1
done
[ -n "$url" ] || die "recsys serve printed no 'serving on' line in 30 s"
for _ in $(seq 300); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz" || true)
  [ "$code" != 200 ] || break
  sleep 0.1
done
[ "$code" = 200 ] || die "$url/readyz answered $code, not 200, for 30 s"
log "serving on $url (pid $pid)"

recommend_path='/v1/recommend?user_id=u%d&n=10&strategy=collab&exclude_seen=true'
popular_path='/v1/popular?n=10'
# What is measured must be what is meant: a generated user gets the ALS
# ranking (no fallback), and the popular list answers.
body=$(curl -fsS "$url${recommend_path/\%d/1}") || die "recommend for u1 failed"
case $body in
  *'"strategy":"collab"'*'"item_id"'*) ;;
  *) die "recommend for u1 did not answer an ALS ranking: $body" ;;
esac
curl -fsS -o /dev/null "$url$popular_path" || die "popular failed"
rss_start_kib=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")

# field NAME: a figure from the "result" line of $T/wrk.out (see load.lua).
field() { sed -n "s/^result .*\\b$1=\\([0-9]*\\).*/\\1/p" "$T/wrk.out"; }

# server_ticks: the CPU time the server has used, user + system, in clock
# ticks (fields 14 and 15 of /proc/PID/stat, counted after the command name).
server_ticks() { sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }'; }
hz=$(getconf CLK_TCK)

# load NAME DURATION PATH [USERS]: runs wrk on PATH, fails when a request
# failed, and writes $T/NAME.figures: requests, requests/s, p50, p90, p99 and
# max latency in ms, and the server's CPU time per request in microseconds
# (what a request costs, however the cores were shared with wrk and others).
load() {
  local name=$1 dur=$2 ticks
  shift 2
  ticks=$(server_ticks)
  # In the background so that a TERM stops the script at once, not at the
  # end of the run.
  wrk -t"$wrk_threads" -c"$connections" -d"$dur" --latency -s "$here/load.lua" "$url" -- "$@" \
    >"$T/wrk.out" 2>&1 &
  wrk_pid=$!
  local st=0
  wait "$wrk_pid" || st=$?
  wrk_pid=''
  [ "$st" -eq 0 ] || { cat "$T/wrk.out" >&2; die "wrk on $name: exit status $st"; }
  kill -0 "$pid" 2>/dev/null || die "the server died during the $name run"
  grep -q '^result ' "$T/wrk.out" || { cat "$T/wrk.out" >&2; die "wrk printed no result"; }
  local n non2xx sock
  ticks=$(($(server_ticks) - ticks))
  n=$(field requests) non2xx=$(field non2xx) sock=$(field socket_errors)
  if [ "$non2xx" -ne 0 ] || [ "$sock" -ne 0 ] || [ "$n" -eq 0 ]; then
    grep -v '^result ' "$T/wrk.out" >&2
    die "$name: $non2xx of $n requests answered 4xx/5xx, $sock socket errors"
  fi
  awk -v n="$n" -v d="$(field duration_us)" -v a="$(field p50_us)" -v b="$(field p90_us)" \
    -v c="$(field p99_us)" -v m="$(field max_us)" -v t="$ticks" -v hz="$hz" \
    'BEGIN { printf "%d %.0f %.3f %.3f %.3f %.3f %.1f\n",
      n, n / (d / 1e6), a / 1e3, b / 1e3, c / 1e3, m / 1e3, t / hz * 1e6 / n }' >"$T/$name.figures"
}

# 3. A warm-up (page cache, the model's pages, the allocator), then the runs.
log "warm-up, $warmup"
load warmup "$warmup" "$recommend_path" "$users"
for run in recommend popular; do
  log "$run: wrk -t$wrk_threads -c$connections -d$duration --latency"
  if [ "$run" = recommend ]; then
    load recommend "$duration" "$recommend_path" "$users"
  else
    load popular "$duration" "$popular_path"
  fi
  grep -v '^result ' "$T/wrk.out" | sed 's/^/  /' >&2
done

# 4. Memory, fallbacks, and the verdicts.
read -r rec_n rec_rps rec_p50 rec_p90 rec_p99 rec_max rec_cpu <"$T/recommend.figures"
read -r pop_n pop_rps pop_p50 pop_p90 pop_p99 pop_max pop_cpu <"$T/popular.figures"
peak_kib=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$pid/status")
fallbacks=$(curl -fsS "$url/metrics" |
  awk '/^recsys_recommend_fallbacks_total/ { s += $NF; seen = 1 } END { print seen ? s : "null" }') ||
  fallbacks=null
read -r peak_mib rss_start_mib model_mib limit_mib < <(awk -v p="$peak_kib" -v s="$rss_start_kib" \
  -v m="$model_bytes" -v h="$rss_headroom_mib" 'BEGIN { printf "%.1f %.1f %.1f %.1f\n",
    p / 1024, s / 1024, m / 1048576, m / 1048576 + h }')
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi; }
recommend_met=$(verdict "$rec_rps >= $target_rps && $rec_p99 < $target_p99_ms")
memory_met=$(verdict "$peak_kib <= $model_bytes / 1024 + $rss_headroom_mib * 1024")
bool() { if [ "$1" = met ]; then echo true; else echo false; fi; }

common="\"commit\":\"$commit\",\"users\":$users,\"items\":$items,\
\"events\":$events,\"factors\":$factors,\"cores\":$(nproc)"
# endpoint_json NAME REQUESTS RPS P50 P90 P99 MAX CPU EXTRA: the JSON line of
# one wrk run; EXTRA is more fields, each with its leading comma.
endpoint_json() {
  printf '{"bench":"serve","what":"%s",%s,"wrk_threads":%d,"connections":%d,"duration":"%s","requests":%d,' \
    "$1" "$common" "$wrk_threads" "$connections" "$duration" "$2"
  printf '"requests_per_s":%d,"p50_ms":%s,"p90_ms":%s,"p99_ms":%s,"max_ms":%s,' \
    "$3" "$4" "$5" "$6" "$7"
  printf '"server_cpu_us_per_request":%s,"non_2xx":0%s}\n' "$8" "$9"
}
{
  endpoint_json recommend "$rec_n" "$rec_rps" "$rec_p50" "$rec_p90" "$rec_p99" "$rec_max" "$rec_cpu" \
    ",\"fallbacks\":$fallbacks,\"target_requests_per_s\":$target_rps,\
\"target_p99_ms\":$target_p99_ms,\"target_met\":$(bool "$recommend_met")"
  endpoint_json popular "$pop_n" "$pop_rps" "$pop_p50" "$pop_p90" "$pop_p99" "$pop_max" "$pop_cpu" ""
  printf '{"bench":"serve","what":"memory",%s,"peak_rss_mb":%s,"start_rss_mb":%s,"model_bytes":%d,' \
    "$common" "$peak_mib" "$rss_start_mib" "$model_bytes"
  printf '"model_mb":%s,"target_peak_rss_mb":%s,"target_met":%s}\n' \
    "$model_mib" "$limit_mib" "$(bool "$memory_met")"
} >"$T/results"
cat "$T/results"
mkdir -p "$out"
{ printf '[\n'; sed '$!s/$/,/' "$T/results"; printf ']\n'; } >"$out/serve.json"

{
  echo
  echo "serve benchmark, commit $commit, $(nproc) cores: $users users, $items items," \
    "$events events, ALS k=$factors; wrk -t$wrk_threads -c$connections -d$duration"
  printf '  %-10s %10s %9s %9s %9s   %s\n' endpoint "req/s" "p50 ms" "p99 ms" "CPU us" target
  printf '  %-10s %10s %9s %9s %9s   %s\n' recommend "$rec_rps" "$rec_p50" "$rec_p99" "$rec_cpu" \
    ">= $target_rps req/s, p99 < $target_p99_ms ms: $recommend_met"
  printf '  %-10s %10s %9s %9s %9s   %s\n' popular "$pop_rps" "$pop_p50" "$pop_p99" "$pop_cpu" -
  printf '  %-10s %10s   %s\n' "peak RSS" "$peak_mib MiB" \
    "<= model $model_mib MiB + $rss_headroom_mib MiB = $limit_mib MiB: $memory_met"
  echo "  (CPU us: the server's CPU time per request; wrk shares the same cores)"
  [ "$fallbacks" = 0 ] || echo "  note: $fallbacks recommend requests fell back to popularity"
  echo "  written to $out/serve.json"
} >&2
