#!/usr/bin/env bash
# Builds the libFuzzer targets with clang under ASan/UBSan and runs each for
# a while, starting from its corpus under tests/fuzz/corpus/.
#   tests/fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET
# New inputs found go to BUILD_DIR/corpus/<name> (the checked-in corpus is
# never modified); a crash leaves its input in BUILD_DIR/crash-* and fails.
set -euo pipefail

build=${1:?usage: run.sh BUILD_DIR SECONDS}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS}
src=$(cd "$(dirname "$0")/../.." && pwd)

if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang not installed; skipping (scripts/install-deps installs it)" >&2
  exit 0
fi

CC=clang cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRS_FUZZ=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_csv fuzz_import fuzz_request >/dev/null

for name in csv import request; do
  work="$build/corpus/$name"
  mkdir -p "$work"
  echo "fuzz: $name for ${seconds}s" >&2
  (cd "$build" && ASAN_OPTIONS=detect_leaks=1 \
     "./tests/fuzz/fuzz_$name" -max_total_time="$seconds" -max_len=4096 \
     -print_final_stats=1 "corpus/$name" "$src/tests/fuzz/corpus/$name" 2>"fuzz-$name.log") || {
    tail -n 40 "$build/fuzz-$name.log" >&2
    echo "fuzz: $name failed; see $build/fuzz-$name.log and $build/crash-*" >&2
    exit 1
  }
  grep -E '^stat::(number_of_executed_units|new_units_added)' "$build/fuzz-$name.log" \
    | sed "s/^/fuzz: $name /" >&2
done
