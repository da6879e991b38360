#!/usr/bin/env bash
# The microservices deployment on one machine, with real parts: a
# PostgreSQL server (tests/pg/pg.sh), s3rver behind the SigV4-checking
# proxy (s3lib.sh), the five roles of recsys serve as separate processes,
# `recsys train` run as the CronJob would, and a real Prometheus scraping
# the five (microservices_test.py).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
pg="$(dirname "$0")/../pg/pg.sh"

s3_start "$T/s3" models || { fail "s3rver and the proxy start"; finish; }
if ! url=$("$pg" start "$T/pg"); then
  fail "start PostgreSQL"; finish
fi
# Stop PostgreSQL too, before what s3lib.sh and lib.sh clean up.
eval "words=($(trap -p EXIT))"
# shellcheck disable=SC2064,SC2154 # expand the previous trap now
trap "\"$pg\" stop \"$T/pg\"; ${words[2]}" EXIT
export RECSYS_DB="$url/postgres" RECSYS_MODELS="s3://$S3_BUCKET/models"
pass "PostgreSQL at $url, s3rver behind the proxy at $AWS_ENDPOINT_URL"

run "generate" 0 "$RECSYS" generate --users 300 --items 120 --events 15000 --seed 5 --out "$T/gen"
run "import items" 0 "$RECSYS" import --format items-csv "$T/gen/items.csv"
run "import events" 0 "$RECSYS" import --format csv "$T/gen/events.csv"
run "train: the first version" 0 "$RECSYS" train --log-level warn --factors 16
if ! python3 "$(dirname "$0")/microservices_test.py" "$RECSYS" "$T"; then
  fail "microservices_test.py"
  for f in "$T"/role-*.log "$T/prometheus.log"; do
    [ -f "$f" ] && tail -n 5 "$f" | sed "s|^|  $(basename "$f"): |"
  done
fi
finish
