#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: Debian's PostgreSQL 15
# binaries, a cluster made by initdb in a temp folder (as the postgres
# user when run as root: initdb refuses root), listening on a free port of
# 127.0.0.1 with its socket in that folder, trusted local connections.
#
#   tests/pg/pg.sh start DIR     prints the server's URL prefix
#                                (postgresql://postgres@127.0.0.1:PORT)
#   tests/pg/pg.sh stop DIR      stops it fast and removes DIR
#   tests/pg/pg.sh down DIR      stops it, keeping its data
#   tests/pg/pg.sh up DIR        starts it again on the same port
#   tests/pg/pg.sh run CMD...    starts a server, runs CMD with PG_URL set to
#                                the URL prefix, stops the server; CMD's status
set -euo pipefail

bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$bin/initdb" ]; then
  echo "pg.sh: no PostgreSQL server binaries in $bin: install postgresql-15 (scripts/install-deps)" >&2
  exit 1
fi

# as_owner CMD...: runs CMD as the cluster's owner (postgres when we are root).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# cluster DIR: the folder holding the cluster of DIR. As root, a folder of
# its own under /tmp that the postgres user owns (DIR's parents may not let
# that user in), named in DIR/cluster; otherwise DIR itself.
cluster() {
  local dir=$1
  if [ -f "$dir/cluster" ]; then
    cat "$dir/cluster"
  elif [ "$(id -u)" -eq 0 ]; then
    local c
    c=$(mktemp -d /tmp/rs-pg-XXXXXX)
    chown postgres "$c"
    echo "$c" >"$dir/cluster"
    echo "$c"
  else
    echo "$dir"
  fi
}

start() {
  local dir=$1 port c
  mkdir -p "$dir"
  c=$(cluster "$dir")
  if [ ! -f "$c/data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$c/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  port=$(cat "$dir/port" 2>/dev/null || free_port)
  echo "$port" >"$dir/port"
  # fsync stays on: the tests check that an acknowledged event survives.
  as_owner "$bin/pg_ctl" -D "$c/data" -l "$c/server.log" -w -t 30 \
    -o "-p $port -k $c -c listen_addresses=127.0.0.1 -c max_connections=200" start \
    >/dev/null || { tail -20 "$c/server.log" >&2; return 1; }
  echo "postgresql://postgres@127.0.0.1:$port"
}

stop() {
  local dir=$1 c
  [ -d "$dir" ] || return 0
  c=$(cluster "$dir")
  [ -f "$c/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$c/data" -m fast -w stop >/dev/null 2>&1
  return 0
}

# remove DIR: deletes the cluster and DIR.
remove() {
  local dir=$1
  [ -f "$dir/cluster" ] && rm -rf "$(cat "$dir/cluster")"
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "$2" ;;
  stop) stop "$2"; remove "$2" ;;
  down) stop "$2" ;;
  up) start "$2" >/dev/null ;;
  run)
    shift
    dir=$(mktemp -d "${TMPDIR:-/tmp}/rs-pg-XXXXXX")
    trap 'stop "$dir"; remove "$dir"' EXIT
    PG_URL=$(start "$dir") || exit 1
    export PG_URL PG_DIR=$dir
    status=0
    "$@" || status=$?
    exit $status
    ;;
  *) echo "usage: pg.sh start DIR | stop DIR | down DIR | up DIR | run CMD..." >&2; exit 2 ;;
esac
