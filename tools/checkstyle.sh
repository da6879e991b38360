#!/usr/bin/env bash
# Mechanical style checks that the compiler does not make (see STYLE.md):
# banned unsafe calls, raw malloc/free outside the allocation module, and
# headers without include guards. Prints every offence and fails if any.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
offend() { printf '%s\n' "$*"; status=1; }

files=$(git ls-files -co --exclude-standard -- 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' 2>/dev/null || true)
[ -n "$files" ] || files=$(find src tests bench -name '*.[ch]' 2>/dev/null)

# Calls that overflow buffers or hide parse errors.
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|atof|strtok|tmpnam)\s*\('
while IFS= read -r hit; do
  offend "banned call: $hit"
done < <(grep -nE "$banned" $files | grep -v '^\s*//' || true)

# Raw allocation outside src/core/alloc.c (tests may use it for fixtures).
lib=$(printf '%s\n' $files | grep '^src/' | grep -v '^src/core/alloc.c$' || true)
while IFS= read -r hit; do
  offend "raw allocation (use core/alloc.h): $hit"
done < <(grep -nE '(^|[^_a-z])(malloc|calloc|realloc|free)\s*\(' $lib | grep -vE 'rs_(x|try_)?(malloc|calloc|realloc|free)|json_.*free|sqlite3_free|EVP_.*free|_free\(' || true)

# Every header has an include guard.
for h in $(printf '%s\n' $files | grep '\.h$'); do
  grep -qE '^#ifndef [A-Z0-9_]+_H$' "$h" || offend "no include guard: $h"
done

[ $status -eq 0 ] && echo "checkstyle: ok"
exit $status
