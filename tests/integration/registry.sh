#!/usr/bin/env bash
# The model registry end to end with real processes: two `recsys serve`
# against one SQLite store and one file:// model store, polling every
# 300 ms, follow `recsys train`, `recsys models promote|rollback` and the
# HTTP admin routes; retention; a training killed with SIGKILL; a damaged
# artifact refused by its checksum; and a server's training thread
# (--retrain-every, POST /v1/train, 409 while one runs, the API key).
# registry_test.py drives it all on generated data: a small shop (a
# training takes ~0.2 s) and a larger one for the training thread (~1 s).
. "$(dirname "$0")/lib.sh"
run "generate the shop" 0 "$RECSYS" generate --users 300 --items 120 --events 15000 --seed 5 \
  --out "$T/gen" --log-level warn
run "import its items" 0 "$RECSYS" import --db "sqlite://$T/shop.db" --format items-csv \
  "$T/gen/items.csv" --log-level warn
run "import its events" 0 "$RECSYS" import --db "sqlite://$T/shop.db" --format csv \
  "$T/gen/events.csv" --log-level warn
run "generate a larger shop" 0 "$RECSYS" generate --users 2000 --items 1000 --events 150000 \
  --seed 9 --out "$T/gen2" --log-level warn
run "import its items" 0 "$RECSYS" import --db "sqlite://$T/sched.db" --format items-csv \
  "$T/gen2/items.csv" --log-level warn
run "import its events" 0 "$RECSYS" import --db "sqlite://$T/sched.db" --format csv \
  "$T/gen2/events.csv" --log-level warn
[ "$failures" -eq 0 ] || finish

if ! python3 "$(dirname "$0")/registry_test.py" "$RECSYS" "$T"; then
  fail "registry_test.py"
  for log in serve-a.log serve-b.log serve-sched.log; do
    [ -f "$T/$log" ] && tail -n 15 "$T/$log" | sed "s/^/  $log: /"
  done
fi
finish
