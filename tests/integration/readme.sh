#!/usr/bin/env bash
# Runs the README's examples: every line of a ```sh block that starts with
# "recsys " is executed (with this build's binary) in order, in a temporary
# folder, and must succeed. Lines naming placeholder paths (path/to) are
# skipped.
. "$(dirname "$0")/lib.sh"
readme="$(dirname "$0")/../../README.md"
cd "$T"
n=0
while IFS= read -r line; do
  cmd=${line%%#*}                       # drop trailing comments
  cmd=${cmd%"${cmd##*[![:space:]]}"}    # and trailing spaces
  case "$cmd" in *path/to*) continue ;; esac
  n=$((n + 1))
  eval "run \"README: \$cmd\" 0 \"\$RECSYS\" ${cmd#recsys }"
done < <(awk '/^```sh$/ {on=1; next} /^```$/ {on=0} on && /^recsys / {print}' "$readme")
[ "$n" -ge 4 ] || fail "found only $n README examples"
finish
