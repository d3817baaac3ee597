#!/usr/bin/env bash
# Builds the telemetry backends the tests send to (Prometheus, promtool,
# Alertmanager), and Sloth for `make bench` only (not CI), from
# source through the Go module proxy (no GitHub releases, no
# images), once, into the same versioned cache as testbin/k8s.sh:
#   ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/<program>-<version>/<program>
# Each build_* function prints the binary's path on stdout, progress on stderr.
# Loki, Tempo and Grafana are AGPL: never built here (testbin/licences.tsv).
# Source it (source testbin/backends.sh; build_prometheus) or run it:
#   bash testbin/backends.sh prometheus|promtool|alertmanager|sloth|all
# (all: what CI builds; sloth is not in it.)
# How to start them for loopback tests: testbin/README-backends.md.
set -euo pipefail

# _k8s_build (lock, temp dir, `go mod tidy -e`, resolved-version check, atomic
# rename) and _k8s_log; k8s.sh runs nothing when sourced.
# shellcheck source=testbin/k8s.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/k8s.sh"

# 3.16.0 (v0.316.0) is served, but the proxy refuses the zip of the version of
# its Nomad service-discovery client (an MPL-2.0 dependency) it requires.
PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-3.15.0} # github.com/prometheus/prometheus v0.315.0
# kube-prometheus-stack 88.6.1's tag (charts/stack/kube-prometheus-stack.yaml).
ALERTMANAGER_VERSION=${ALERTMANAGER_VERSION:-0.34.0} # github.com/prometheus/alertmanager
# Sloth: SLO specs to Prometheus rules, for `make bench`'s rule-cost
# comparison only (not built by CI).
SLOTH_VERSION=${SLOTH_VERSION:-0.16.0} # github.com/slok/sloth

# Prometheus 3.x.y is Go module version v0.3xx.y (3.16.0 -> v0.316.0).
_backends_prom_module_version() {
  local minor=${PROMETHEUS_VERSION#3.}
  printf 'v0.3%02d.%s' "${minor%%.*}" "${minor#*.}"
}

# _backends_wrapper_gomod <name> <module@version> [require line]...: a wrapper
# go.mod requiring <module@version>, with the `go` line, `godebug` lines and
# every replace/exclude directive of the module's own go.mod (read from the
# downloaded file, not typed here; replace directives do not apply outside the
# main module, so without them the build gets other versions of forks).
# Replacements by a local path are dropped: extra require lines pin those
# modules instead.
_backends_wrapper_gomod() {
  local name=$1 mod=$2 gomod
  shift 2
  gomod=$(_k8s_download "$mod" GoMod) || return 1
  printf 'module storeops/testbin/%s\n\n' "$name"
  sed -n 's/^go \([0-9.]*\)$/go \1/p' "$gomod"
  printf '\n'
  sed -n 's/^godebug \(.*\)$/godebug \1/p' "$gomod"
  printf '\nrequire %s %s\n' "${mod%@*}" "${mod#*@}"
  local r
  for r in "$@"; do printf 'require %s\n' "$r"; done
  printf '\n'
  awk '
    { sub(/[[:space:]]*\/\/.*$/, "") }            # comments
    /^(replace|exclude)[[:space:]]*\($/ { block = $1; next }
    block != "" && /^\)/ { block = ""; next }
    block != "" && NF { line = block " " $0 }
    block == "" && /^(replace|exclude)[[:space:]]/ { line = $0 }
    line != "" {
      gsub(/[[:space:]]+/, " ", line); sub(/^ /, "", line); sub(/ $/, "", line)
      if (line !~ /=> \.\.?\//) print line
      line = ""
    }' "$gomod"
}

_backends_gomod_prometheus() {
  _backends_wrapper_gomod prometheus "github.com/prometheus/prometheus@$(_backends_prom_module_version)"
}

# Version stamps as .promu.yml sets them; the proxy's .info gives no commit
# hash for v0.315.0, so Revision stays empty; BuildDate is the release's
# commit time.
_backends_prom_ldflags() {
  local p=github.com/prometheus/common/version info date
  info=$(_k8s_download "github.com/prometheus/prometheus@$(_backends_prom_module_version)" Info) || return 1
  date=$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$info")
  echo "-X $p.Version=$PROMETHEUS_VERSION -X $p.Branch=HEAD -X $p.BuildUser=storeops@testbin -X $p.BuildDate=$date"
}

# _backends_build <program> <version> <package> <module@version> <ldflags function> <go.mod writer> [extra]:
# _k8s_build, but computes the ldflags (which download the module) only when
# the binary is not in the cache yet, so a second call only prints the path.
_backends_build() {
  local cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin} ldflags
  if [[ -x $cache/$1-$2/$1 ]]; then echo "$cache/$1-$2/$1"; return 0; fi
  command -v go >/dev/null || { _k8s_log "go is required (the Go toolchain, >= 1.26)"; return 1; }
  ldflags=$("$5") || { _k8s_log "building $1 $2 failed"; return 1; }
  _k8s_build "$1" "$2" "$3" "$4" "$ldflags" "$6" "${7:-}"
}

# Built without the builtinassets tag: the web UI pages answer 500, the HTTP
# API (/api/v1/*, /-/ready, OTLP and remote-write receivers) works.
# Service discovery: Kubernetes (all the Prometheus Operator configures) and
# the file and HTTP ones every build keeps, by upstream's build tags; the
# cloud providers' SDKs, most of the compile, are left out. promtool takes
# the same tags, so the two share their compiled packages.
_backends_prom_tags=remove_all_sd,enable_kubernetes_sd
build_prometheus() {
  GO_BUILD_TAGS=$_backends_prom_tags _backends_build prometheus "$PROMETHEUS_VERSION-kubernetes-sd" \
    github.com/prometheus/prometheus/cmd/prometheus \
    "github.com/prometheus/prometheus@$(_backends_prom_module_version)" _backends_prom_ldflags _backends_gomod_prometheus
}
build_promtool() {
  GO_BUILD_TAGS=$_backends_prom_tags _backends_build promtool "$PROMETHEUS_VERSION-kubernetes-sd" \
    github.com/prometheus/prometheus/cmd/promtool \
    "github.com/prometheus/prometheus@$(_backends_prom_module_version)" _backends_prom_ldflags _backends_gomod_prometheus
}

# The module zip lacks ui/app/dist (the Elm UI, built by its Makefile, not in
# git; no Elm compiler here), which the binary embeds: the wrapper builds a
# copy of the module (./am in the build directory) with a placeholder page
# there. The HTTP API (/api/v2, /-/ready) is whole.
_backends_gomod_alertmanager() {
  local dir
  dir=$(_k8s_download "github.com/prometheus/alertmanager@v$ALERTMANAGER_VERSION") || return 1
  cp -r "$dir" am && chmod -R u+w am && mkdir -p am/ui/app/dist || return 1
  printf '<!doctype html><title>Alertmanager</title><p>No UI in this build (storeops testbin): the API is at /api/v2.\n' \
    >am/ui/app/dist/index.html || return 1
  _backends_wrapper_gomod alertmanager "github.com/prometheus/alertmanager@v$ALERTMANAGER_VERSION" || return 1
  printf 'replace github.com/prometheus/alertmanager => ./am\n'
}
_backends_am_ldflags() {
  local p=github.com/prometheus/common/version
  echo "-X $p.Version=$ALERTMANAGER_VERSION -X $p.Branch=HEAD -X $p.BuildUser=storeops@testbin"
}
build_alertmanager() {
  _backends_build alertmanager "$ALERTMANAGER_VERSION" github.com/prometheus/alertmanager/cmd/alertmanager \
    "github.com/prometheus/alertmanager@v$ALERTMANAGER_VERSION" _backends_am_ldflags _backends_gomod_alertmanager
}

# Sloth's go.mod has no replace directives; its build script stamps the
# version (`git describe --tags`) into internal/info.
_backends_gomod_sloth() {
  _backends_wrapper_gomod sloth "github.com/slok/sloth@v$SLOTH_VERSION"
}
_backends_sloth_ldflags() {
  echo "-X github.com/slok/sloth/internal/info.Version=v$SLOTH_VERSION"
}
build_sloth() {
  _backends_build sloth "$SLOTH_VERSION" github.com/slok/sloth/cmd/sloth \
    "github.com/slok/sloth@v$SLOTH_VERSION" _backends_sloth_ldflags _backends_gomod_sloth
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case "${1:-}" in
    prometheus) build_prometheus ;;
    promtool) build_promtool ;;
    alertmanager) build_alertmanager ;;
    sloth) build_sloth ;; # make bench only: not in all (CI)
    all) build_prometheus; build_promtool; build_alertmanager ;;
    *) echo "usage: $0 prometheus|promtool|alertmanager|sloth|all" >&2; exit 2 ;;
  esac
  # bash parses this whole block before running it; exiting here means an edit
  # of this file during a long build cannot make bash read on at a stale offset.
  exit 0
fi
