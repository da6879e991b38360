#!/usr/bin/env bash
# recsys serve --roles: one store and model, servers with different roles
# (roles_test.py), each mounting only its routes.
. "$(dirname "$0")/lib.sh"
run "unknown role refused" 2 "$RECSYS" serve --db "sqlite://$T/x.db" --roles input,search
has "$T/err" "unknown role 'search'"
serve_test roles_test.py roles.log popularity,als,similar,hybrid
finish
