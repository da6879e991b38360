#!/usr/bin/env bash
# recsys demo on a small catalogue: generates, imports, reports; a second
# run reuses the data and imports nothing twice.
. "$(dirname "$0")/lib.sh"
run "demo" 0 "$RECSYS" demo --dir "$T/demo" --users 200 --items 80 --events 3000 --no-serve
has "$T/out" "demo data: generated 80 items and 3000 events"
has "$T/out" "holds 200 users, 80 items, 3,000 events"
[ -f "$T/demo/recsys.db" ] || fail "no database"
run "demo again" 0 "$RECSYS" demo --dir "$T/demo" --users 200 --items 80 --events 3000 --no-serve
has "$T/out" "(reused)"
has "$T/out" "(already imported)"
has "$T/out" "3,000 events"
run "demo with new parameters" 0 "$RECSYS" demo --dir "$T/demo" --users 100 --items 50 --events 1000 --no-serve
has "$T/out" "holds 100 users, 50 items, 1,000 events"
finish
