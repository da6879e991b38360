#!/usr/bin/env bash
# recsys on a real PostgreSQL server (tests/pg/pg.sh starts one in the test
# folder): generated data imported, a model trained and served, then the
# database server stopped and started again under the running service
# (postgres_test.py).
. "$(dirname "$0")/lib.sh"
pg="$(dirname "$0")/../pg/pg.sh"
if ! url=$("$pg" start "$T/pg"); then
  fail "start PostgreSQL"; finish
fi
trap '"$pg" stop "$T/pg"' EXIT
db="$url/postgres"
run "generate" 0 "$RECSYS" generate --users 300 --items 120 --events 15000 --seed 5 --out "$T/gen"
run "import items" 0 "$RECSYS" import --db "$db" --format items-csv "$T/gen/items.csv"
run "import events" 0 "$RECSYS" import --db "$db" --format csv "$T/gen/events.csv"
run "import again: already imported" 0 "$RECSYS" import --db "$db" --format csv "$T/gen/events.csv"
has "$T/out" "1 file was imported before"
run "train" 0 "$RECSYS" train --db "$db" --models "file://$T/models" --log-level warn --factors 16
run "runs list" 0 "$RECSYS" runs list --db "$db"
has "$T/out" "finished"
run "models list" 0 "$RECSYS" models list --db "$db"
has "$T/out" "production"
if ! PG_DIR="$T/pg" PG_SH="$pg" python3 "$(dirname "$0")/postgres_test.py" "$RECSYS" "$T" "$db"; then
  fail "postgres_test.py"
  tail -n 20 "$T/serve.log" | sed "s/^/  serve.log: /"
fi
"$pg" stop "$T/pg"
trap - EXIT
finish
