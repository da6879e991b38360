#!/usr/bin/env bash
# Runs every benchmark against a build folder and prints their JSON lines.
#   bench/run.sh [BUILD_DIR]      (default build/release)
set -euo pipefail
build=${1:-build/release}
export RECSYS_COMMIT=${RECSYS_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
for b in "$build"/bench/bench_*; do
  [ -x "$b" ] || continue
  echo "# $(basename "$b")" >&2
  "$b"
done
