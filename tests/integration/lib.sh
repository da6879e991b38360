# Shared helpers for the integration scripts: a temp folder removed on
# success, and assertions that print what was expected and what came.
set -uo pipefail
: "${RECSYS:?RECSYS must point to the recsys binary}"
T=$(mktemp -d "${TMPDIR:-/tmp}/rs-it-XXXXXX")
failures=0
trap 'if [ $failures -eq 0 ]; then rm -rf "$T"; else echo "kept $T for inspection"; fi' EXIT

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# run NAME EXPECTED_STATUS CMD... : runs CMD, keeps its stdout/stderr in
# $T/out and $T/err, and checks the exit status.
run() {
  local name=$1 want=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    fail "$name: exit status $got, expected $want"; sed 's/^/  stdout: /' "$T/out" | head -5
    sed 's/^/  stderr: /' "$T/err" | head -5
    return 1
  fi
  pass "$name"
}

# has FILE TEXT : the file contains the text (fixed string).
has() {
  if ! grep -qF -- "$2" "$1"; then
    fail "expected '$2' in $(basename "$1"):"; sed 's/^/  | /' "$1" | head -8
  fi
}

lines() { wc -l <"$1" | tr -d ' '; }

# count DB SQL : one number from the SQLite database at DB.
count() { sqlite3 "$1" "$2"; }

# serve_test SCRIPT LOG [MODELS]: a small shop for the server tests in $T
# (generated data in gen/, imported into shop.db, one version of MODELS,
# by default popularity,als,similar, in models/), then python3 SCRIPT
# RECSYS $T; on failure shows the end of $T/LOG (the server's log).
serve_test() {
  local url="sqlite://$T/shop.db"
  run "generate" 0 "$RECSYS" generate --users 300 --items 120 --events 15000 --seed 5 --out "$T/gen"
  run "import items" 0 "$RECSYS" import --db "$url" --format items-csv "$T/gen/items.csv"
  run "import events" 0 "$RECSYS" import --db "$url" --format csv "$T/gen/events.csv"
  run "train" 0 "$RECSYS" train --db "$url" --models "file://$T/models" --no-eval \
    --log-level warn --factors 16 --model "${3:-popularity,als,similar}"
  if ! python3 "$(dirname "${BASH_SOURCE[0]}")/$1" "$RECSYS" "$T"; then
    fail "$1"
    tail -n 20 "$T/$2" | sed "s/^/  $2: /"
  fi
}

finish() {
  if [ $failures -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
  echo "all passed"
}
