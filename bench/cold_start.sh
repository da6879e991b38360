#!/usr/bin/env bash
# The cold-start and diversity tables of docs/algorithms.md: recsys eval
# on the MovieLens data under the normal, cold-items and cold-users
# protocols (popularity, collab = als, hybrid), and the hybrid's
# ndcg@10 / intra-list category diversity at four diversity settings.
#   bench/cold_start.sh [RECSYS] [DATA_DIR]
set -euo pipefail
RECSYS=${1:-build/release/recsys}
DATA=${2:-../shared/data}
ROWS="$(dirname "$0")/eval_rows.py"
echo "| data | protocol | model | ndcg@10 | recall@10 |"
echo "|---|---|---|---|---|"
for spec in "ml-100k movielens-100k" "ml-latest-small movielens-csv"; do
  set -- $spec
  for proto in normal cold-items cold-users; do
    "$RECSYS" eval --data "$DATA/$1" --format "$2" --protocol "$proto" \
      --model popularity,als,hybrid --metric ndcg,recall --log-level warn 2>/dev/null |
      python3 "$ROWS" "$1" "$proto" ndcg recall
  done
done
echo
echo "| data | diversity | model | ndcg@10 | intra-list category diversity |"
echo "|---|---|---|---|---|"
for spec in "ml-100k movielens-100k" "ml-latest-small movielens-csv"; do
  set -- $spec
  for d in 0 0.25 0.5 0.75; do
    "$RECSYS" eval --data "$DATA/$1" --format "$2" --model hybrid --diversity "$d" \
      --metric ndcg,diversity --log-level warn 2>/dev/null |
      python3 "$ROWS" "$1" "$d" ndcg diversity
  done
done
