# shellcheck shell=bash
# An S3-compatible server for integration tests, sourced by a test script:
# s3rver (the npm devDependency pinned in package-lock.json) with
# sigv4_proxy.py in front of it, which checks every request's SigV4
# signature with botocore before passing it on. Both listen on 127.0.0.1 at
# free ports (each binds port 0 and prints the one it got). Nothing is
# installed here: scripts/install-npm --all and scripts/install-deps do it.
#
#   s3_start DIR [BUCKET]  starts both; s3rver keeps its data in DIR/data
#                          and both log into DIR. Creates BUCKET ("models"),
#                          exports AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
#                          AWS_REGION and AWS_ENDPOINT_URL (the proxy), sets
#                          S3_BUCKET, S3_PROXY_PORT, S3_SERVER_PORT and
#                          S3_PROXY_LOG, and stops both when the shell exits.
#   s3_stop                stops both
#   s3_stop_server         stops s3rver only (the proxy then answers 503)
#   s3_stop_proxy          stops the proxy only (nothing listens on its port)
#   s3_direct ARGS...      curl straight to s3rver, unsigned (s3rver serves
#                          anonymous requests): s3_direct -X PUT --data-binary @F /bucket/key
#                          prints the HTTP status
#   s3_proxy_control NAME  asks the proxy for a fault (flip-next-put)
#   s3_proxy_count REGEX   how many proxy log lines match REGEX (grep -E)

S3LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
S3LIB_ROOT=${RS_SOURCE_DIR:-$(cd "$S3LIB_DIR/../.." && pwd)}
S3_SERVER_PID=
S3_PROXY_PID=

# _s3_wait_port FILE PID NAME: waits (up to 20 s) for "... listening on
# 127.0.0.1:PORT" in FILE and prints PORT; fails if PID dies first.
_s3_wait_port() {
  local file=$1 pid=$2 name=$3 port
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$file" 2>/dev/null |
      head -1)
    if [ -n "$port" ]; then echo "$port"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "s3lib: $name exited while starting:" >&2; sed 's/^/  /' "$file" >&2; return 1
    fi
    sleep 0.1
  done
  echo "s3lib: $name did not start within 20 s" >&2
  return 1
}

# _s3_wait_answer PORT NAME: waits until an HTTP server answers on PORT.
_s3_wait_answer() {
  for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  echo "s3lib: $2 on port $1 does not answer" >&2
  return 1
}

# _s3_kill PID: stops a process this library started, by its id.
_s3_kill() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

# Runs s3_stop before whatever EXIT trap the caller already had.
_s3_trap_exit() {
  [ -z "${S3LIB_TRAPPED:-}" ] || return 0
  S3LIB_TRAPPED=1
  local prev='' words
  if [ -n "$(trap -p EXIT)" ]; then
    eval "words=($(trap -p EXIT))" # trap -- 'COMMAND' EXIT
    prev=${words[2]}
  fi
  # shellcheck disable=SC2064 # expand the caller's trap now
  trap "s3_stop; $prev" EXIT
}

s3_start() {
  local dir=$1
  S3_BUCKET=${2:-models}
  local s3rver="$S3LIB_ROOT/node_modules/s3rver/bin/s3rver.js"
  if [ ! -f "$s3rver" ]; then
    echo "s3lib: $s3rver is missing; run scripts/install-npm --all" >&2; return 1
  fi
  if ! command -v node >/dev/null; then
    echo "s3lib: node is not on PATH (Node.js 20+ is needed for s3rver)" >&2; return 1
  fi
  if ! /usr/bin/python3 -c 'import botocore' 2>/dev/null; then
    echo "s3lib: /usr/bin/python3 has no botocore; install python3-botocore" \
         "(scripts/install-deps)" >&2
    return 1
  fi
  mkdir -p "$dir/data" || return 1
  _s3_trap_exit

  # s3rver on Node 20 needs OpenSSL's legacy provider for the DES cipher of
  # its listing continuation tokens; --service-endpoint localhost lets
  # BUCKET.s3.localhost reach the bucket (virtual-hosted addressing).
  NODE_OPTIONS=--openssl-legacy-provider node "$s3rver" --directory "$dir/data" \
    --address 127.0.0.1 --port 0 --service-endpoint localhost \
    --configure-bucket "$S3_BUCKET" >"$dir/s3rver.log" 2>&1 &
  S3_SERVER_PID=$!
  S3_SERVER_PORT=$(_s3_wait_port "$dir/s3rver.log" "$S3_SERVER_PID" s3rver) || return 1
  _s3_wait_answer "$S3_SERVER_PORT" s3rver || return 1

  S3_PROXY_LOG=$dir/proxy.log
  : >"$S3_PROXY_LOG"
  /usr/bin/python3 "$S3LIB_DIR/sigv4_proxy.py" --upstream "127.0.0.1:$S3_SERVER_PORT" \
    --access-key S3RVER --secret S3RVER --region us-east-1 --log "$S3_PROXY_LOG" \
    >"$dir/proxy.out" 2>&1 &
  S3_PROXY_PID=$!
  S3_PROXY_PORT=$(_s3_wait_port "$dir/proxy.out" "$S3_PROXY_PID" sigv4_proxy) || return 1
  _s3_wait_answer "$S3_PROXY_PORT" sigv4_proxy || return 1
  : >"$S3_PROXY_LOG" # forget the readiness probe

  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
  export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PROXY_PORT"
  unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 AWS_DEFAULT_REGION RECSYS_S3_PATH_STYLE
}

s3_stop_proxy() {
  _s3_kill "$S3_PROXY_PID"
  S3_PROXY_PID=
}

s3_stop_server() {
  _s3_kill "$S3_SERVER_PID"
  S3_SERVER_PID=
}

s3_stop() {
  s3_stop_proxy
  s3_stop_server
}

s3_direct() {
  local last=${*: -1}
  curl -sS -o /dev/null -w '%{http_code}\n' --max-time 10 "${@:1:$#-1}" \
    "http://127.0.0.1:$S3_SERVER_PORT$last"
}

s3_proxy_control() {
  curl -sS -o /dev/null --max-time 5 -X POST "http://127.0.0.1:$S3_PROXY_PORT/__proxy/$1"
}

s3_proxy_count() {
  grep -cE -- "$1" "$S3_PROXY_LOG"
}
