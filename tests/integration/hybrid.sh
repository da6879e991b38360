#!/usr/bin/env bash
# The hybrid strategy of recsys serve over real HTTP: generated data in a
# real SQLite file, a version with the hybrid model, and hybrid_test.py
# checking new items, content profiles, diversity, explanations and hidden
# items.
. "$(dirname "$0")/lib.sh"
serve_test hybrid_test.py hybrid.log popularity,als,similar,hybrid
finish
