#!/usr/bin/env bash
# Installs Schemathesis (the OpenAPI fuzzer, from PyPI) once into a virtual
# environment in the testbin cache and prints the path of its `st` command.
#   bash testbin/schemathesis.sh   -> .../schemathesis-<version>/bin/st
set -euo pipefail
version=4.32.5
cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin}
dir=$cache/schemathesis-$version
if [[ ! -f $dir/.complete ]]; then
  command -v python3 >/dev/null || { echo "schemathesis: python3 (3.10+) with venv is required" >&2; exit 1; }
  echo "schemathesis: installing $version from PyPI into $dir (once)" >&2
  rm -rf "$dir"
  # A venv is not relocatable: built in place, marked complete last.
  python3 -m venv "$dir" >&2
  "$dir/bin/pip" install -q "schemathesis==$version" >&2
  touch "$dir/.complete"
fi
echo "$dir/bin/st"
