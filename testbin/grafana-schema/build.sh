#!/usr/bin/env bash
# Builds grafana-dashboard-validate once into the testbin cache and prints
# its path. It checks classic dashboard JSON (schemaVersion 3x-4x: panels,
# templating, annotations, links, fieldConfig, targets) against Grafana's
# dashboard schema as published in Go by github.com/grafana/grafana-foundation-sdk
# (types generated from Grafana's CUE kinds: the dashboard kind, each core
# panel's panelcfg, each core datasource's dataquery), fetched from the Go
# module proxy and pinned by validator/go.sum.
#   bash testbin/grafana-schema/build.sh       -> prints the binary's path
#   bash testbin/grafana-schema/build.sh env   -> prints `export GRAFANA_DASHBOARD_VALIDATE=path`
# Cache: ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/grafana-dashboard-validate-<sdk>-<sources hash>/
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin}
sdk_module=github.com/grafana/grafana-foundation-sdk/go
sdk_version=v0.0.18 # must match validator/go.mod

log() { echo "grafana-schema: $*" >&2; }
work=""
trap '[[ -z $work ]] || rm -rf "$work"' EXIT

build() {
  local sum dir
  # The sources and the pins are the cache key: any change rebuilds.
  sum=$(cd "$here/validator" && cat go.mod go.sum ./*.go schemagen/*.go | sha256sum | cut -c1-8)
  dir="$cache/grafana-dashboard-validate-${sdk_version#v}-$sum"
  if [[ ! -x $dir/grafana-dashboard-validate ]]; then
    command -v go >/dev/null || { log "go is required"; exit 1; }
    grep -q "^require $sdk_module $sdk_version\$" "$here/validator/go.mod" ||
      { log "validator/go.mod does not pin $sdk_module $sdk_version"; exit 1; }
    log "building grafana-dashboard-validate ($sdk_module $sdk_version, about a minute, once)"
    mkdir -p "$cache"
    work=$(mktemp -d "$cache/.grafana-dashboard-validate-build.XXXXXX")
    cp -R "$here/validator" "$work/src"
    rm -f "$work/src/schema_gen.go"
    (
      cd "$work/src"
      export GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=${GOTOOLCHAIN:-local} CGO_ENABLED=0
      nice -n 19 go mod download "$sdk_module" >&2
      nice -n 19 go run ./schemagen "$(go list -m -f '{{.Dir}}' "$sdk_module")" "$sdk_module" >schema_gen.go
      nice -n 19 go build -trimpath -ldflags="-s -w -X main.sdkVersion=$sdk_version" \
        -o "$work/out/grafana-dashboard-validate" . >&2
    )
    # Refuse a binary that rejects the known-good dashboard.
    "$work/out/grafana-dashboard-validate" -q "$here/testdata/valid.json" >&2
    # Atomic: whole directory renamed into place; a concurrent build that won keeps its own.
    mv -T "$work/out" "$dir" 2>/dev/null || [[ -x $dir/grafana-dashboard-validate ]]
  fi
  echo "$dir/grafana-dashboard-validate"
}

case "${1:-}" in
  "") build ;;
  env) printf 'export GRAFANA_DASHBOARD_VALIDATE=%q\n' "$(build)" ;;
  *) echo "usage: $0 [env]" >&2; exit 2 ;;
esac
