#!/usr/bin/env bash
# Runs the README's examples: every line of a ```sh block that starts with
# "recsys " is executed (with this build's binary) in order, in a temporary
# folder, and must succeed. Lines naming placeholder paths (path/to) are
# skipped. `recsys serve` lines run on a free port until they answer
# /healthz, then stop on SIGTERM and must exit 0.
. "$(dirname "$0")/lib.sh"
readme="$(dirname "$0")/../../README.md"
# serve_example CMD: runs a serve line on 127.0.0.1:0 in the background.
serve_example() {
  local args=${1#recsys }
  args=$(sed -E 's/--listen [^ ]+//' <<<"$args")
  eval "exec \"\$RECSYS\" $args --listen 127.0.0.1:0 --quiet" >"$T/out" 2>"$T/err" &
  local pid=$! port="" i
  for i in $(seq 100); do
    port=$(sed -n 's|^serving on http://127.0.0.1:\([0-9]*\)$|\1|p' "$T/out")
    [ -n "$port" ] && break
    sleep 0.1
  done
  if [ -z "$port" ] || ! curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; then
    fail "README: $1: did not serve"; sed 's/^/  stderr: /' "$T/err" | head -5
  else
    pass "README: $1"
  fi
  kill -TERM "$pid"
  wait "$pid" || fail "README: $1: exit status $? after SIGTERM"
}

cd "$T"
n=0
while IFS= read -r line; do
  cmd=${line%%#*}                       # drop trailing comments
  cmd=${cmd%"${cmd##*[![:space:]]}"}    # and trailing spaces
  case "$cmd" in *path/to*) continue ;; esac
  n=$((n + 1))
  case "$cmd" in
    "recsys serve"*) serve_example "$cmd"; continue ;;
  esac
  eval "run \"README: \$cmd\" 0 \"\$RECSYS\" ${cmd#recsys }"
done < <(awk '/^```sh$/ {on=1; next} /^```$/ {on=0} on && /^recsys / {print}' "$readme")
[ "$n" -ge 4 ] || fail "found only $n README examples"
finish
