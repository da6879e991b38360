#!/usr/bin/env bash
# The command-line contract: help everywhere, one-line errors naming the
# flag with exit status 2, environment variables for every flag, and the
# commands this version does not have saying so.
. "$(dirname "$0")/lib.sh"

run "no arguments" 2 "$RECSYS"
has "$T/err" "Usage: recsys COMMAND"
run "--help" 0 "$RECSYS" --help
for c in demo serve import generate train eval tune models runs; do
  has "$T/out" "  $c "
done
run "--version" 0 "$RECSYS" --version
has "$T/out" "recsys "

for c in demo serve import generate train eval tune models runs; do
  run "$c --help" 0 "$RECSYS" "$c" --help
  has "$T/out" "Usage: recsys $c"
  has "$T/out" "--log-level"
done
run "help import" 0 "$RECSYS" help import
has "$T/out" "[RECSYS_FORMAT]"

run "unknown command" 2 "$RECSYS" frobnicate
has "$T/err" "'frobnicate' is not a command"
run "unknown flag" 2 "$RECSYS" import --format csv --colour red x.csv
has "$T/err" "--colour: unknown option"
[ "$(lines "$T/err")" -eq 1 ] || fail "unknown flag: error is not one line"
run "bad enum value" 2 "$RECSYS" import --format excel x.csv
has "$T/err" "--format: 'excel' is not one of: movielens-100k, movielens-csv, csv, items-csv"
run "bad number" 2 "$RECSYS" generate --users ten --items 5 --events 5 --out "$T/g"
has "$T/err" "--users: 'ten' is not a whole number"
run "out of range" 2 "$RECSYS" generate --users 0 --items 5 --events 5 --out "$T/g"
has "$T/err" "--users: 0 is out of range"
run "missing value" 2 "$RECSYS" import --format
has "$T/err" "--format: needs a value"
run "missing required" 2 "$RECSYS" import x.csv
has "$T/err" "--format is required (or set RECSYS_FORMAT"
run "missing argument" 2 "$RECSYS" import --format csv
has "$T/err" "missing PATH..."
run "single dash" 2 "$RECSYS" import -f csv x.csv
has "$T/err" "-f: unknown option"
run "bad bool" 2 "$RECSYS" import --format csv --strict=maybe x.csv
has "$T/err" "--strict: 'maybe' is not true or false"
run "bad log level" 2 "$RECSYS" import --log-level loud --format csv x.csv
has "$T/err" "--log-level: 'loud' is not one of"

# Every flag reads RECSYS_<FLAG>; the command line wins.
RECSYS_FORMAT=excel run "bad env value" 2 "$RECSYS" import x.csv
has "$T/err" "RECSYS_FORMAT: 'excel' is not one of"
RECSYS_USERS=abc run "bad env number" 2 "$RECSYS" generate --items 5 --events 5 --out "$T/g"
has "$T/err" "RECSYS_USERS: 'abc' is not a whole number"
RECSYS_USERS=7 RECSYS_ITEMS=3 RECSYS_EVENTS=20 RECSYS_OUT="$T/env" \
  run "flags from env" 0 "$RECSYS" generate --items 4
has "$T/out" "4 items"
has "$T/out" "20 events"
[ "$(($(lines "$T/env/events.csv") - 1))" -eq 20 ] || fail "env: events.csv rows"

# The registry and run commands name what is wrong with their arguments.
run "models: unknown subcommand" 2 "$RECSYS" models frobnicate --db "sqlite://$T/empty.db"
has "$T/err" "unknown subcommand 'frobnicate' (list, promote VERSION or rollback)"
run "models promote: not a number" 2 "$RECSYS" models promote x1 --db "sqlite://$T/empty.db"
has "$T/err" "'x1' is not a version number"
run "models promote: unknown version" 4 "$RECSYS" models promote 9 --db "sqlite://$T/empty.db"
has "$T/err" "model default has no version 9"
run "models rollback: nothing in production" 4 "$RECSYS" models rollback --db "sqlite://$T/empty.db"
has "$T/err" "no version of default is in production"
run "runs show: unknown run" 4 "$RECSYS" runs show 20260101-000000-abcdef --db "sqlite://$T/empty.db"
has "$T/err" "no run with id '20260101-000000-abcdef'"
run "runs show: needs an id" 2 "$RECSYS" runs show --db "sqlite://$T/empty.db"
run "runs list: bad status" 2 "$RECSYS" runs list --status done --db "sqlite://$T/empty.db"
has "$T/err" "status: expected running, finished or failed"

# train and eval name what is wrong with their input.
run "train on an empty store" 2 "$RECSYS" train --db "sqlite://$T/empty.db" --models "file://$T/m"
has "$T/err" "the store has no events to train on (import some first); the production model is unchanged"
[ -z "$(ls "$T/m" 2>/dev/null)" ] || fail "train on an empty store wrote a model"
run "eval on a missing file" 1 "$RECSYS" eval --data "$T/nope.csv" --format csv
has "$T/err" "nope.csv: No such file or directory"
finish
