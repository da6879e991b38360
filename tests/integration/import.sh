#!/usr/bin/env bash
# recsys generate and import end to end against a real SQLite file:
# counts, re-import, --strict leaving the database unchanged, bad rows
# reported as FILE:LINE: reason with exit status 0 (skipped) or 3 (strict).
. "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
URL="sqlite://$DB"

run "generate" 0 "$RECSYS" generate --users 300 --items 120 --events 6000 --seed 7 --out "$T/gen"
has "$T/out" "120 items"
has "$T/out" "6,000 events"
run "generate again is identical" 0 "$RECSYS" generate --users 300 --items 120 --events 6000 --seed 7 --out "$T/gen2"
cmp -s "$T/gen/events.csv" "$T/gen2/events.csv" || fail "same seed, different events.csv"
cmp -s "$T/gen/items.csv" "$T/gen2/items.csv" || fail "same seed, different items.csv"

run "import items" 0 "$RECSYS" import --db "$URL" --format items-csv "$T/gen/items.csv"
has "$T/out" "120 items"
run "import events" 0 "$RECSYS" import --db "$URL" --format csv --json "$T/gen/events.csv"
has "$T/out" '"status":"ok"'
has "$T/out" '"events":6000'
[ "$(count "$DB" 'select count(*) from events')" -eq 6000 ] || fail "6000 events in the database"
[ "$(count "$DB" 'select count(*) from items')" -eq 120 ] || fail "120 items in the database"

run "re-import is skipped" 0 "$RECSYS" import --db "$URL" --format csv "$T/gen/events.csv"
has "$T/err" "skipped, the same content was imported at"
has "$T/out" "imported 0 events"
run "forced re-import" 0 "$RECSYS" import --db "$URL" --format csv --force "$T/gen/events.csv"
[ "$(count "$DB" 'select count(*) from events')" -eq 12000 ] || fail "forced: 12000 events"
[ "$(count "$DB" 'select count(*) from users')" -eq 300 ] || fail "forced: users not duplicated"

# A file with bad rows: skipped and reported, or fatal with --strict.
printf 'user_id,item_id,value\nnew-1,i1,1\nnew-2,i2,lots\nnew-3,,1\nnew-4,i4,2\n' > "$T/bad.csv"
before=$(count "$DB" 'select count(*) from events')
run "strict import fails" 3 "$RECSYS" import --db "$URL" --format csv --strict "$T/bad.csv"
has "$T/err" "bad.csv:3: value: 'lots' is not a number; nothing was imported"
[ "$(count "$DB" 'select count(*) from events')" -eq "$before" ] || fail "strict: database changed"
[ "$(count "$DB" "select count(*) from users where id='new-1'")" -eq 0 ] || fail "strict: user new-1 was written"
run "lenient import skips" 0 "$RECSYS" import --db "$URL" --format csv "$T/bad.csv"
has "$T/err" "bad.csv:3: value: 'lots' is not a number (row skipped)"
has "$T/err" "bad.csv:4: item_id: empty id (row skipped)"
has "$T/out" "imported 2 events"
has "$T/out" "skipped 2 bad rows"

# Invalid UTF-8 and an empty file.
printf 'user_id,item_id\nu\xff,i1\n' > "$T/utf8.csv"
run "invalid utf-8" 3 "$RECSYS" import --db "$URL" --format csv --strict "$T/utf8.csv"
has "$T/err" "utf8.csv:2: user_id: id is not valid UTF-8"
: > "$T/empty.csv"
run "empty file" 3 "$RECSYS" import --db "$URL" --format csv "$T/empty.csv"
has "$T/err" "empty.csv:0: the file is empty"
run "missing file" 1 "$RECSYS" import --db "$URL" --format csv "$T/nope.csv"
has "$T/err" "nope.csv: No such file or directory"
run "bad store URL" 2 "$RECSYS" import --db "$T/x.db" --format csv "$T/bad.csv"
has "$T/err" "did you mean sqlite://"
finish
