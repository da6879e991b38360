#!/usr/bin/env bash
# The users, items and events endpoints, malformed requests and API keys of
# recsys serve over real HTTP: generated data imported into a real SQLite
# file and one trained model version; api_test.py drives the servers.
. "$(dirname "$0")/lib.sh"
serve_test api_test.py api.log
finish
