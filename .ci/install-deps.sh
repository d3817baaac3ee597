#!/usr/bin/env bash
# System packages the tests run for real: PostgreSQL (initdb, postgres) and
# Prometheus (promtool, prometheus) from Debian; Go to build the test
# programs; Node.js and npm to run Grafana's LogQL and TraceQL grammars
# (testbin/lezer). Idempotent.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
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
service prometheus stop >/dev/null 2>&1 || true
