#!/usr/bin/env bash
# recsys serve over real HTTP: generated data imported into a real SQLite
# file, one trained model version, then serve_test.py drives the server.
. "$(dirname "$0")/lib.sh"
URL="sqlite://$T/shop.db"
run "generate" 0 "$RECSYS" generate --users 300 --items 120 --events 15000 --seed 5 --out "$T/gen"
run "import items" 0 "$RECSYS" import --db "$URL" --format items-csv "$T/gen/items.csv"
run "import events" 0 "$RECSYS" import --db "$URL" --format csv "$T/gen/events.csv"
run "train" 0 "$RECSYS" train --db "$URL" --models "file://$T/models" --no-eval --log-level warn --factors 16
if ! python3 "$(dirname "$0")/serve_test.py" "$RECSYS" "$T"; then
  fail "serve_test.py"
  tail -n 20 "$T/serve.log" | sed 's/^/  serve.log: /'
fi
finish
