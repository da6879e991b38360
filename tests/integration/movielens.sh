#!/usr/bin/env bash
# Imports the public MovieLens data sets when they are present and checks
# the published counts. Skips (77) when the data folder is absent.
. "$(dirname "$0")/lib.sh"
data=${RS_SHARED_DATA:-}
if [ -z "$data" ] || [ ! -f "$data/ml-100k/u.data" ] || [ ! -f "$data/ml-latest-small/ratings.csv" ]; then
  echo "skipped: MovieLens data not found under '${data}' (see README: Evaluation data)"
  exit 77
fi
run "ml-100k" 0 "$RECSYS" import --db "sqlite://$T/ml100k.db" --format movielens-100k --strict --json "$data/ml-100k"
has "$T/out" '"events":100000,"users":943,"items":1682'
run "ml-latest-small" 0 "$RECSYS" import --db "sqlite://$T/mls.db" --format movielens-csv --strict --json "$data/ml-latest-small"
has "$T/out" '"events":100836,"users":610,"items":9742'
[ "$(count "$T/mls.db" "select count(*) from items where title = 'Toy Story (1995)' and category = 'Adventure'")" -eq 1 ] \
  || fail "ml-latest-small: Toy Story with its first genre as category"
[ "$(count "$T/ml100k.db" "select count(*) from items where title like 'Mis%rables%'")" -ge 1 ] \
  || fail "ml-100k: Latin-1 titles converted"
run "ml-100k text output" 0 "$RECSYS" import --db "sqlite://$T/ml100k-b.db" --format movielens-100k "$data/ml-100k"
has "$T/out" "imported 100,000 events, 943 users, 1,682 items"
finish
