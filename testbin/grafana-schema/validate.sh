#!/usr/bin/env bash
# Validates Grafana dashboard JSON files against Grafana's dashboard schema
# (see build.sh), building the validator first if needed.
#   bash testbin/grafana-schema/validate.sh [-q] [-allow-missing] FILE...   ("-" = stdin)
# Prints "FILE: ok", or one "FILE: path.to.field: problem" line per problem
# and exits 1; notes on what could not be checked go to stderr. Exit 2: usage
# or unreadable file. -allow-missing turns absent required fields that have
# no schema default (links[].icon, options.legend, ...) into notes.
set -euo pipefail
bin=$(bash "$(dirname "$0")/build.sh")
exec "$bin" "$@"
