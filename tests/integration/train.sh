#!/usr/bin/env bash
# recsys train and recsys eval end to end on generated data in a real
# SQLite file: one JSON line per model, a run recorded and a model version
# registered in production, and failures (no events, bad flags, an
# unwritable model folder) that leave production untouched.
. "$(dirname "$0")/lib.sh"
DB="$T/shop.db"
URL="sqlite://$DB"
M="$T/models"

# The version in production ("none" when there is none).
production() {
  "$RECSYS" models list --db "$1" --json | python3 -c '
import json, sys
prod = [v["version"] for v in map(json.loads, sys.stdin) if v["stage"] == "production"]
print(prod[0] if prod else "none")'
}

run "generate" 0 "$RECSYS" generate --users 400 --items 150 --events 12000 --seed 3 --out "$T/gen"
run "import items" 0 "$RECSYS" import --db "$URL" --format items-csv "$T/gen/items.csv"
run "import events" 0 "$RECSYS" import --db "$URL" --format csv "$T/gen/events.csv"

run "train on an empty store fails" 2 "$RECSYS" train --db "sqlite://$T/empty.db" --models "file://$M" --log-level warn
has "$T/err" "no events to train on"
has "$T/err" "the production model is unchanged"
[ "$(production "sqlite://$T/empty.db")" = none ] || fail "a failed training registered a version"
run "the failed run is recorded" 0 "$RECSYS" runs list --db "sqlite://$T/empty.db" --json
has "$T/out" '"status":"failed"'
has "$T/out" 'no events to train on'

run "train" 0 "$RECSYS" train --db "$URL" --models "file://$M" --log-level warn --factors 16
[ "$(grep -c '"model"' "$T/out")" -eq 4 ] || fail "train: expected 4 JSON lines (popularity, als, similar, hybrid)"
has "$T/out" '"model":"als","protocol":"normal","split":"random","k":10'
has "$T/out" '"model":"hybrid","protocol":"normal"'
has "$T/out" "version 1 promoted: no version was in production"
[ "$(production "$URL")" = "1" ] || fail "version 1 is not in production"
[ "$(ls "$M"/model-*.rsm | wc -l)" -eq 1 ] || fail "expected one model file in $M"
# ALS must find held-out items far better than popularity on this data.
python3 - "$T/out" <<'PY' || fail "als does not beat popularity"
import json, sys
rows = {}
for line in open(sys.argv[1]):
    if line.startswith("{"):
        r = json.loads(line); rows[r["model"]] = r
assert rows["als"]["ndcg"] > 2 * rows["popularity"]["ndcg"], rows
PY

run "bad hyperparameter" 2 "$RECSYS" train --db "$URL" --models "file://$M" --factors 0
has "$T/err" "--factors"
run "unknown model" 2 "$RECSYS" train --db "$URL" --models "file://$M" --model als,magic
has "$T/err" "unknown model 'magic'"
run "s3 store without credentials" 2 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
  "$RECSYS" train --db "$URL" --models "s3://bucket/x"
has "$T/err" "AWS_ACCESS_KEY_ID"
run "unknown model store" 2 "$RECSYS" train --db "$URL" --models "ftp://host/x"
run "bad regularisation reaches the library" 2 "$RECSYS" train --db "$URL" --models "file://$M" --model mf --mf-lr 20
run "burn-in longer than the sampling" 2 "$RECSYS" train --db "$URL" --models "file://$M" --model mf --mf-iterations 10 --log-level warn
has "$T/err" "burn-in (20) must be less than the iterations (10)"
[ "$(production "$URL")" = "1" ] || fail "a rejected training changed production"

# An unwritable model folder: training fails, nothing is published.
mkdir -p "$T/ro" && chmod 500 "$T/ro"
if [ "$(id -u)" -ne 0 ]; then
  run "unwritable model folder" 1 "$RECSYS" train --db "$URL" --models "file://$T/ro" --no-eval --log-level warn
fi

# Without an evaluation a version cannot be compared with production: it
# stays a candidate unless promotion is forced.
run "train all, no eval" 0 "$RECSYS" train --db "$URL" --models "file://$M" --model all --no-eval --json --log-level warn
has "$T/out" '"version":2,"stage":"candidate"'
[ "$(production "$URL")" = "1" ] || fail "an unevaluated version went to production"
run "train, no eval, promoted" 0 "$RECSYS" train --db "$URL" --models "file://$M" --model popularity --no-eval --promote always --json --log-level warn
has "$T/out" '"version":3,"stage":"production"'
[ "$(production "$URL")" = "3" ] || fail "version 3 is not in production"

run "eval on the store" 0 "$RECSYS" eval --db "$URL" --model popularity,als,knn,mf --log-level warn --factors 16
[ "$(lines "$T/out")" -eq 4 ] || fail "eval: expected 4 lines"
has "$T/out" '"model":"mf"'
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/out" || fail "eval output is not JSON lines"
run "eval temporal" 0 "$RECSYS" eval --db "$URL" --model popularity --split temporal --log-level warn
has "$T/out" '"split":"temporal"'
run "eval on a csv file" 0 "$RECSYS" eval --data "$T/gen/events.csv" --format csv --model popularity --log-level warn
has "$T/out" '"model":"popularity"'
run "eval rmse" 0 "$RECSYS" eval --db "$URL" --metric rmse,mae --mf-iterations 30 --log-level warn
[ "$(lines "$T/out")" -eq 1 ] || fail "eval --metric rmse: expected the mf line only"
python3 - "$T/out" <<'PY' || fail "eval --metric rmse,mae: wrong fields"
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["model"] == "mf" and r["rmse"] > 0 and r["mae"] > 0, r
assert "ndcg" not in r and "precision" not in r, r
PY
run "eval unknown metric" 2 "$RECSYS" eval --db "$URL" --metric ndcg,auc
has "$T/err" "--metric: unknown metric 'auc'"
run "eval needs data" 2 "$RECSYS" eval
has "$T/err" "give --data (with --format) or --db"
run "eval on a missing file" 1 "$RECSYS" eval --data "$T/nope.csv" --format csv
has "$T/err" "nope.csv"
finish
