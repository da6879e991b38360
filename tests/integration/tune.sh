#!/usr/bin/env bash
# recsys tune end to end: on the tiny MovieLens fixture (ALS and the
# hybrid) and on a generated shop, every stdout line is JSON, one per trial
# plus a summary; the trial count and the counts in the summary agree; the
# best validation score is at least every finished trial's; early stopping
# prunes on the larger data; the search is recorded as runs that train
# --params-from uses; and bad input fails with a clear message.
. "$(dirname "$0")/lib.sh"
TINY="$RS_FIXTURES/ml-100k-tiny"
cd "$T" # searches record their runs in ./recsys.db unless --db says otherwise

# check OUT TRIALS [MIN_PRUNED]: the JSON lines of a tune run.
check() {
  python3 - "$1" "$2" "${3:-0}" <<'PY' || fail "tune output ($1)"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
trials, min_pruned = int(sys.argv[2]), int(sys.argv[3])
rows = [l for l in lines if l["type"] == "trial"]
summary = lines[-1]
assert summary["type"] == "summary" and len(lines) == trials + 1, lines
assert [r["trial"] for r in rows] == list(range(1, trials + 1)), rows
finished = [r for r in rows if r["status"] == "finished"]
pruned = [r for r in rows if r["status"] == "pruned"]
assert summary["trials"] == trials
assert summary["finished"] == len(finished) and summary["pruned"] == len(pruned)
assert summary["finished"] + summary["pruned"] + summary["failed"] == trials
assert len(pruned) >= min_pruned, (len(pruned), min_pruned)
best = summary["best_validation_ndcg"]
assert all(best >= r["validation_ndcg"] for r in finished), (best, finished)
assert rows[summary["best_trial"] - 1]["validation_ndcg"] == best
assert rows[summary["best_trial"] - 1]["params"] == summary["best_params"]
for r in pruned:
    assert r["steps"] and r["validation_ndcg"] == r["steps"][-1]["ndcg"], r
for r in rows:
    assert set(r["params"]) >= {"factors", "reg", "alpha", "iterations"}, r
for part in ("default", "best"):
    assert 0 <= summary["test"][part]["ndcg"] <= 1, summary
assert summary["seconds"] >= 0
PY
}

# The fixture has too few interactions per user for a per-user split to
# leave anything to validate on; a global time cut does.
run "too little data" 2 "$RECSYS" tune --data "$TINY" --format movielens-100k --trials 2
has "$T/err" "too little data to tune"
run "tune als on the fixture" 0 "$RECSYS" tune --data "$TINY" --format movielens-100k \
  --split time --test-fraction 0.3 --trials 4 --threads 1
check "$T/out" 4
[ "$(grep -c '^recsys tune: trial [1-4]/4 --factors' "$T/err")" -eq 4 ] ||
  fail "expected one progress line per trial on stderr"
has "$T/err" "recsys tune: best trial 1"
run "tune the hybrid on the fixture" 0 "$RECSYS" tune --data "$TINY" --format movielens-100k \
  --model hybrid --split time --test-fraction 0.3 --trials 3 --threads 1
check "$T/out" 3
has "$T/out" '"hybrid-blend"'

# A generated shop: enough trials for the median rule to stop some.
run "generate" 0 "$RECSYS" generate --users 300 --items 120 --events 15000 --seed 5 --out "$T/gen"
run "tune on generated data" 0 "$RECSYS" tune --data "$T/gen/events.csv" --format csv \
  --trials 12 --threads 1 --log-level warn
check "$T/out" 12 1
has "$T/err" "pruned at iteration"
run "tune without pruning" 0 "$RECSYS" tune --data "$T/gen/events.csv" --format csv \
  --trials 3 --no-prune --threads 1 --factors 16
check "$T/out" 3
has "$T/out" '"finished":3,"pruned":0'
has "$T/out" '"params":{"factors":16,'

# The search is recorded: a tune run with a trial run per trial, and the
# best parameters on the tune run, which train --params-from uses.
RUNS="sqlite://$T/runs.db"
run "tune, recorded" 0 "$RECSYS" tune --data "$T/gen/events.csv" --format csv \
  --trials 3 --no-prune --threads 1 --factors 16 --db "$RUNS"
tune_run=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-1]["run_id"])' "$T/out")
run "the tune run" 0 "$RECSYS" runs show "$tune_run" --db "$RUNS"
has "$T/out" '"kind":"tune"'
has "$T/out" '"status":"finished"'
run "its trials" 0 "$RECSYS" runs list --db "$RUNS" --parent "$tune_run" --json
[ "$(lines "$T/out")" -eq 3 ] || fail "expected 3 trial runs"
has "$T/out" '"kind":"trial"'
run "import for training" 0 "$RECSYS" import --db "$RUNS" --format csv "$T/gen/events.csv"
run "train with the tuned parameters" 0 "$RECSYS" train --db "$RUNS" --models "file://$T/m" \
  --model als --params-from "$tune_run" --no-eval --log-level warn --json
python3 - "$RUNS" "$tune_run" <<'PY' || fail "train --params-from did not use the tune run's parameters"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1][len("sqlite://"):])
best = json.loads(db.execute("SELECT params FROM runs WHERE id = ?", (sys.argv[2],)).fetchone()[0])
used = json.loads(db.execute(
    "SELECT params FROM runs WHERE kind = 'train' ORDER BY started_ms DESC LIMIT 1").fetchone()[0])
assert used["als"] == best["als"], (used["als"], best["als"])
PY
run "params from an unknown run" 4 "$RECSYS" train --db "$RUNS" --models "file://$T/m" \
  --params-from 20200101-000000-000000
has "$T/err" "--params-from: no run with id"

# Bad input: one clear line, exit status 2 for usage errors.
run "unknown model" 2 "$RECSYS" tune --data "$TINY" --format movielens-100k --model knn
has "$T/err" "--model: 'knn' is not one of: als, hybrid"
run "zero trials" 2 "$RECSYS" tune --data "$TINY" --format movielens-100k --trials 0
has "$T/err" "--trials: 0 is out of range"
run "bad trials" 2 "$RECSYS" tune --data "$TINY" --format movielens-100k --trials many
has "$T/err" "--trials: 'many' is not a whole number"
run "bad test fraction" 2 "$RECSYS" tune --data "$TINY" --format movielens-100k --test-fraction 1.5
has "$T/err" "--test-fraction"
run "bad split" 2 "$RECSYS" tune --data "$TINY" --format movielens-100k --split sideways
has "$T/err" "--split: 'sideways' is not one of"
run "bad hyperparameter" 2 "$RECSYS" tune --data "$TINY" --format movielens-100k --factors 0
has "$T/err" "--factors"
run "unknown flag" 2 "$RECSYS" tune --data "$TINY" --format movielens-100k --budget 3
has "$T/err" "--budget: unknown option"
run "missing file" 1 "$RECSYS" tune --data "$T/nope.csv" --format csv
has "$T/err" "nope.csv"
run "empty store" 1 "$RECSYS" tune --db "sqlite://$T/empty.db"
has "$T/err" "the data set has no interactions"
finish
