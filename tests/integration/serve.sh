#!/usr/bin/env bash
# recsys serve over real HTTP: generated data imported into a real SQLite
# file, one trained model version, then serve_test.py drives the server.
. "$(dirname "$0")/lib.sh"
serve_test serve_test.py serve.log
finish
