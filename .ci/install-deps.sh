#!/usr/bin/env bash
# System packages the tests run for real: PostgreSQL (initdb, postgres)
# from Debian; Go to build the test programs (Prometheus and promtool among
# them, testbin/backends.sh); Node.js and npm to run Grafana's LogQL and TraceQL grammars
# (testbin/lezer). With --engine (the kind tier of .ci/run), also a container
# engine where none answers: Debian's docker.io, started with what this
# machine needs (hack/airgap/engine.sh, `make engine`); a running Docker is
# left alone. Idempotent.
set -euo pipefail
engine=false
[[ ${1:-} == --engine ]] && engine=true
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if ((${#need[@]})); then
  echo "installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian starts the packaged services; the tests run their own on loopback.
service postgresql stop >/dev/null 2>&1 || true
if $engine; then bash "$(dirname "$0")/../hack/airgap/engine.sh"; fi
