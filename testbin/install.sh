#!/usr/bin/env bash
# Builds the real programs the tests run, from source through the Go module
# proxy, into a versioned cache outside the repository, once.
#   testbin/install.sh otelcol    -> prints the binary's path
#   testbin/install.sh env        -> builds everything, prints `export VAR=path` lines
#                                    (eval "$(bash testbin/install.sh env)")
# Cache: ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/<program>-<version>/
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin}
export GOFLAGS=${GOFLAGS:--mod=mod} GOTOOLCHAIN=${GOTOOLCHAIN:-local}

log() { echo "testbin: $*" >&2; }

need_go() {
  command -v go >/dev/null || { log "go is required (apt-get install golang-go, or the Go toolchain)"; exit 1; }
}

# Modules of the collector build that the checksum database behind the proxy
# does not know (404): checked against these hashes instead (taken at their
# first download here, 2026-11-30; a different download fails with "SECURITY
# ERROR"), and skipped in the checksum database (GONOSUMDB, these paths only).
otelcol_sums() {
  cat <<'EOF'
github.com/open-telemetry/opentelemetry-collector-contrib/connector/servicegraphconnector v0.159.0 h1:0Iw+mN0cMX2nbGKcz+APwc667l3xZmofsASInzdnVQ0=
github.com/open-telemetry/opentelemetry-collector-contrib/connector/servicegraphconnector v0.159.0/go.mod h1:venqLRc8ziyuXhgcxACbb9F0vjc3R5eEofu/Rqu2m+0=
EOF
}

# OpenTelemetry Collector built by the collector builder (ocb) from manifest.yaml.
otelcol() {
  # The cache key holds the manifest's hash: a changed component list rebuilds.
  local version=0.160.0 stable=1.66.0 sum
  sum=$(sha256sum "$here/otelcol/manifest.yaml" | cut -c1-8)
  local dir="$cache/otelcol-$version-$sum"
  if [[ ! -x $dir/otelcol ]]; then
    need_go
    log "building the OpenTelemetry Collector $version (several minutes, once)"
    mkdir -p "$cache"
    local work; work=$(mktemp -d "$cache/.otelcol-build.XXXXXX")
    trap 'rm -rf "$work"' RETURN
    GOBIN="$work/bin" go install "go.opentelemetry.io/collector/cmd/builder@v$version" >&2
    cp "$here/otelcol/manifest.yaml" "$work/"
    # The builder's own `go mod tidy` fails on test-only modules the proxy does
    # not serve; generate the sources, tidy tolerantly, build ourselves.
    (cd "$work" && ./bin/builder --config=manifest.yaml --skip-get-modules --skip-compilation >&2)
    {
      echo "module storeops/otelcol"; echo; echo "go 1.25"; echo; echo "require ("
      sed -n 's/^ *- gomod: \(.*\) \(v[0-9.]*\)$/\t\1 \2/p' "$work/manifest.yaml"
      echo "	go.opentelemetry.io/collector/otelcol v$version"
      for p in env file http https yaml; do echo "	go.opentelemetry.io/collector/confmap/provider/${p}provider v$stable"; done
      echo ")"
    } >"$work/build/go.mod"
    otelcol_sums >"$work/build/go.sum"
    (cd "$work/build" && GONOSUMDB=$(otelcol_sums | cut -d' ' -f1 | sort -u | paste -sd, -) go mod tidy -e >&2 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o otelcol . >&2) ||
      { log "building the collector failed (see above)"; return 1; }
    mkdir -p "$dir.tmp" && mv "$work/build/otelcol" "$dir.tmp/otelcol"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir/otelcol"
}

# Every program the tests run, as the variables the tests read. Each build
# is its own assignment so that a failed one stops the script (set -e).
env_lines() {
  # shellcheck source=testbin/k8s.sh
  source "$here/k8s.sh"
  # shellcheck source=testbin/backends.sh
  source "$here/backends.sh"
  # shellcheck source=testbin/charts.sh
  source "$here/charts.sh"
  local var path k8s backends
  # Loki, Tempo and Grafana (AGPL) were built here until 2026-11: their
  # caches go (the dashboard validator, grafana-dashboard-validate-*, stays).
  rm -rf "$cache"/loki-* "$cache"/tempo-* "$cache"/grafana-[0-9]*
  # Two build queues side by side: one `go build` rarely keeps both cores
  # busy (linking is serial), two do. Each queue stops at its first failure;
  # the loop below then reports it again with its name.
  (build_etcd >/dev/null && build_kube_apiserver >/dev/null && build_kube_controller_manager >/dev/null &&
    build_kube_scheduler >/dev/null && build_kwok >/dev/null && build_helm >/dev/null && build_kind >/dev/null &&
    monitoring_crds >/dev/null && charts_dir >/dev/null) &
  k8s=$!
  (otelcol >/dev/null && build_prometheus >/dev/null && build_promtool >/dev/null && build_alertmanager >/dev/null &&
    grafana_dashboard_validate >/dev/null && dockerfile_lint >/dev/null) &
  backends=$!
  wait "$k8s" || log "a Kubernetes program failed to build (see above)"
  wait "$backends" || log "a backend program failed to build (see above)"
  for var in OTELCOL_BIN:otelcol ETCD_BIN:build_etcd KUBE_APISERVER_BIN:build_kube_apiserver \
    KUBE_CONTROLLER_MANAGER_BIN:build_kube_controller_manager KUBE_SCHEDULER_BIN:build_kube_scheduler \
    KWOK_BIN:build_kwok HELM_BIN:build_helm KIND_BIN:build_kind MONITORING_CRDS_DIR:monitoring_crds \
    PROMETHEUS_BIN:build_prometheus PROMTOOL_BIN:build_promtool ALERTMANAGER_BIN:build_alertmanager \
    GRAFANA_DASHBOARD_VALIDATE:grafana_dashboard_validate DOCKERFILE_LINT:dockerfile_lint STACK_CHARTS_DIR:charts_dir; do
    path=$("${var#*:}")
    printf 'export %s=%q\n' "${var%%:*}" "$path"
  done
}

# Grafana's dashboard schema as a validator (testbin/grafana-schema/).
grafana_dashboard_validate() { bash "$here/grafana-schema/build.sh"; }
# BuildKit's Dockerfile linter (`docker build --check`) without an engine.
dockerfile_lint() { bash "$here/dockerfile-lint/build.sh"; }

case "${1:-}" in
  otelcol) otelcol ;;
  env) env_lines ;;
  *) echo "usage: $0 otelcol|env" >&2; exit 2 ;;
esac
