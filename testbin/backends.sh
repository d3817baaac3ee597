#!/usr/bin/env bash
# Builds the telemetry backends the tests send to (Prometheus, promtool, Loki,
# Tempo) from source through the Go module proxy (no GitHub releases, no
# images), once, into the same versioned cache as testbin/k8s.sh:
#   ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/<program>-<version>/<program>
# Each build_* function prints the binary's path on stdout, progress on stderr;
# loki_config and tempo_config print single-binary configs verified with them.
# Source it (source testbin/backends.sh; build_loki) or run it:
#   bash testbin/backends.sh prometheus|promtool|loki|tempo|all|loki-config|tempo-config
# How to start them for loopback tests: testbin/README-backends.md.
set -euo pipefail

# _k8s_build (lock, temp dir, `go mod tidy -e`, resolved-version check, atomic
# rename) and _k8s_log; k8s.sh runs nothing when sourced.
# shellcheck source=testbin/k8s.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/k8s.sh"

# 3.16.0 (v0.316.0) is served, but the proxy refuses the zip of the
# github.com/hashicorp/nomad/api version it requires (nomad service discovery).
PROMETHEUS_VERSION=${PROMETHEUS_VERSION:-3.15.0} # github.com/prometheus/prometheus v0.315.0
LOKI_VERSION=${LOKI_VERSION:-3.7.8}              # github.com/grafana/loki/v3 v3.7.8
# Loki v3.7.8 requires github.com/grafana/loki/pkg/push at a 2025-06 commit
# (and replaces it with ./pkg/push, which the v3 module zip does not contain);
# its code uses newer fields. The proxy refuses the pseudo-versions of the
# v3.7.x release commits; this one (main, 2026-06-11) is served and builds.
LOKI_PUSH_VERSION=${LOKI_PUSH_VERSION:-v0.0.0-20260611205623-ac76b402773c}

# Prometheus 3.x.y is Go module version v0.3xx.y (3.16.0 -> v0.316.0).
_backends_prom_module_version() {
  local minor=${PROMETHEUS_VERSION#3.}
  printf 'v0.3%02d.%s' "${minor%%.*}" "${minor#*.}"
}

# _backends_download <module@version> <field>: downloads the module and prints
# one field of `go mod download -json` (GoMod, Dir, Info, Sum), failing with
# the proxy's error. Runs outside any module, so no caller's go.sum is touched.
_backends_download() {
  local json v
  json=$(cd / && GOFLAGS=-mod=mod GOWORK=off go mod download -json "$1") || true # on failure, the JSON holds "Error"
  v=$(sed -n "s/^[[:space:]]*\"$2\": \"\(.*\)\",\{0,1\}\$/\1/p" <<<"$json")
  if [[ -z $v ]]; then
    _k8s_log "cannot download $1: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
    return 1
  fi
  echo "$v"
}

# _backends_wrapper_gomod <name> <module@version> [require line]...: a wrapper
# go.mod requiring <module@version>, with the `go` line, `godebug` lines and
# every replace/exclude directive of the module's own go.mod (read from the
# downloaded file, not typed here; replace directives do not apply outside the
# main module, so without them the build gets other versions of forks such as
# grafana's memberlist). Replacements by a local path (./pkg/push) are dropped:
# the extra require lines pin those modules instead.
_backends_wrapper_gomod() {
  local name=$1 mod=$2 gomod
  shift 2
  gomod=$(_backends_download "$mod" GoMod) || return 1
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
  info=$(_backends_download "github.com/prometheus/prometheus@$(_backends_prom_module_version)" Info) || return 1
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
build_prometheus() {
  _backends_build prometheus "$PROMETHEUS_VERSION" github.com/prometheus/prometheus/cmd/prometheus \
    "github.com/prometheus/prometheus@$(_backends_prom_module_version)" _backends_prom_ldflags _backends_gomod_prometheus
}
build_promtool() {
  _backends_build promtool "$PROMETHEUS_VERSION" github.com/prometheus/prometheus/cmd/promtool \
    "github.com/prometheus/prometheus@$(_backends_prom_module_version)" _backends_prom_ldflags _backends_gomod_prometheus
}

_backends_gomod_loki() {
  _backends_download "github.com/grafana/loki/pkg/push@$LOKI_PUSH_VERSION" Dir >/dev/null || return 1
  _backends_wrapper_gomod loki "github.com/grafana/loki/v3@v$LOKI_VERSION" \
    "github.com/grafana/loki/pkg/push $LOKI_PUSH_VERSION"
}

_backends_loki_ldflags() {
  local p=github.com/grafana/loki/v3/pkg/util/build info date
  info=$(_backends_download "github.com/grafana/loki/v3@v$LOKI_VERSION" Info) || return 1
  date=$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$info")
  echo "-X $p.Version=$LOKI_VERSION -X $p.Branch=release-${LOKI_VERSION%.*}.x -X $p.BuildUser=storeops@testbin -X $p.BuildDate=$date"
}

build_loki() {
  _backends_build loki "$LOKI_VERSION" github.com/grafana/loki/v3/cmd/loki \
    "github.com/grafana/loki/v3@v$LOKI_VERSION" _backends_loki_ldflags _backends_gomod_loki
}

# Tempo's module path has no /v2, so its v2.x.y tags are no Go module
# versions; the proxy here refuses them, branch and commit queries, and the
# pseudo-versions of the release commits. It serves a few pseudo-versions that
# other modules require; this one (grafana's go.mod pins it) is main two
# commits after v2.8.0-rc.0 (its CHANGELOG: "main / unreleased" above
# "v2.8.0-rc.0").
TEMPO_MODULE_VERSION=${TEMPO_MODULE_VERSION:-v1.5.1-0.20250529124718-87c2dc380cec}
TEMPO_VERSION=${TEMPO_VERSION:-2.8.0-rc.0-main-87c2dc3} # the cache dir name and the version stamp

# The checksum database behind the proxy answers 404 for these modules of the
# Tempo build (the proxy serves them): they skip it (GONOSUMDB, these paths
# only) and are checked against these hashes instead, written into the
# wrapper's go.sum before `go mod tidy` (taken at their first download here;
# a mismatch fails with "SECURITY ERROR").
_backends_tempo_sums() {
  cat <<'EOF'
github.com/grafana/tempo v1.5.1-0.20250529124718-87c2dc380cec h1:wnzJov9RhSHGaTYGzTygL4qq986fLen8xSqnQgaMd28=
github.com/grafana/tempo v1.5.1-0.20250529124718-87c2dc380cec/go.mod h1:j1IY7J2rUz7TcTjFVVx6HCpyTlYOJPtXuGRZ7sI+vSo=
github.com/open-telemetry/opentelemetry-collector-contrib/internal/sharedcomponent v0.124.1 h1:QUXMxZTjTER4vDa4ldkSSAd89blgS5974j5AkRLp2M0=
github.com/open-telemetry/opentelemetry-collector-contrib/internal/sharedcomponent v0.124.1/go.mod h1:jRQpw8VJDmUmyH8ONQ5FmhYEXkaxzMFX6Tei8N4GDZs=
github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/opencensus v0.124.1 h1:IYxc8uPVCtKlgxjbYFGZ5/wXLdwAH1WQPKRlzaXtr8E=
github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/opencensus v0.124.1/go.mod h1:jFRiSEn2ss3e4CWG6GTDOJMYRI0C/N2XbMMIBzZuqZY=
github.com/open-telemetry/opentelemetry-collector-contrib/receiver/opencensusreceiver v0.124.1 h1:npAUCN3GM93FCmSZsODhMuNn+v2xDYQTQlgRg/LqBfU=
github.com/open-telemetry/opentelemetry-collector-contrib/receiver/opencensusreceiver v0.124.1/go.mod h1:4+9pSfniXXdRpkKf0QNdElOd7yIWD4ux8D260tSPV54=
github.com/parquet-go/parquet-go v0.25.1-0.20250428214007-401fed3de956 h1:EqOiLPZlZ3UfC9d51fuYWP13FxwSzUCTArR0wg1LlxM=
github.com/parquet-go/parquet-go v0.25.1-0.20250428214007-401fed3de956/go.mod h1:OqBBRGBl7+llplCvDMql8dEKaDqjaFA/VAPw+OJiNiw=
go.opentelemetry.io/collector/exporter/otlpexporter v0.124.0 h1:wbOnCi01UT9YGkK86Jl13DEBTCdgIXSLmX8RajQ66LM=
go.opentelemetry.io/collector/exporter/otlpexporter v0.124.0/go.mod h1:zzugHvRuxWsl8+T2Dj61QAfk7CSWhl26jp0y5LNPVig=
go.opentelemetry.io/otel/bridge/opencensus v1.35.0 h1:4nJfffRbozhqnuukfRkiahA94mnpryCLJLiduMIDJKI=
go.opentelemetry.io/otel/bridge/opencensus v1.35.0/go.mod h1:359S30saRYNsB4A46EDx91SpXsQFNgkma7ftg2/L5/M=
EOF
}
_backends_tempo_nosumdb() { _backends_tempo_sums | cut -d' ' -f1 | sort -u | paste -sd, -; }

# Also writes go.sum (the pinned hashes above) into the current directory,
# the wrapper module's, where _k8s_build runs it.
_backends_gomod_tempo() {
  local want got
  local -x GONOSUMDB
  GONOSUMDB=$(_backends_tempo_nosumdb)
  got=$(_backends_download "github.com/grafana/tempo@$TEMPO_MODULE_VERSION" Sum) || return 1
  want=$(_backends_tempo_sums | sed -n "s#^github.com/grafana/tempo $TEMPO_MODULE_VERSION \(h1:.*\)#\1#p")
  if [[ $got != "$want" ]]; then
    _k8s_log "github.com/grafana/tempo@$TEMPO_MODULE_VERSION has hash $got, pinned: ${want:-none}"
    return 1
  fi
  _backends_tempo_sums >go.sum || return 1
  _backends_wrapper_gomod tempo "github.com/grafana/tempo@$TEMPO_MODULE_VERSION"
}

# As tempo's Makefile stamps (main.Version/Branch/Revision); the commit hash is
# the proxy's Origin for this pseudo-version.
_backends_tempo_ldflags() {
  local info rev
  local -x GONOSUMDB
  GONOSUMDB=$(_backends_tempo_nosumdb)
  info=$(_backends_download "github.com/grafana/tempo@$TEMPO_MODULE_VERSION" Info) || return 1
  rev=$(sed -n 's/.*"Hash": *"\([0-9a-f]*\)".*/\1/p' "$info")
  echo "-X main.Version=$TEMPO_VERSION -X main.Branch=main -X main.Revision=${rev:-${TEMPO_MODULE_VERSION##*-}}"
}

build_tempo() {
  local -x GONOSUMDB # for the build's `go mod tidy` too
  GONOSUMDB=$(_backends_tempo_nosumdb)
  _backends_build tempo "$TEMPO_VERSION" github.com/grafana/tempo/cmd/tempo \
    "github.com/grafana/tempo@$TEMPO_MODULE_VERSION" _backends_tempo_ldflags _backends_gomod_tempo
}

# loki_config <dir> <http_port> <grpc_port>: a single-binary Loki config on
# loopback: no auth (tenant "fake"), filesystem storage under <dir>, in-memory
# ring (no memberlist), OTLP ingestion at /otlp/v1/logs with the OTLP resource
# attribute store.id as the index label store_id (besides Loki's defaults such
# as service.name -> service_name). Start: loki -config.file=<file>; ready
# when /ready answers 200.
loki_config() {
  local dir=$1 http=$2 grpc=$3
  cat <<EOF
auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: $http
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: $grpc
  log_level: warn
common:
  instance_addr: 127.0.0.1
  path_prefix: $dir
  storage:
    filesystem:
      chunks_directory: $dir/chunks
      rules_directory: $dir/rules
  replication_factor: 1
  ring:
    kvstore:
      store: inmemory
schema_config:
  configs:
    - from: 2020-10-24
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h
limits_config:
  allow_structured_metadata: true
  otlp_config:
    resource_attributes:
      attributes_config:
        - action: index_label
          attributes: [store.id]
analytics:
  reporting_enabled: false
EOF
}

# tempo_config <dir> <http_port> <grpc_port> <otlp_grpc_port> <otlp_http_port> [remote_write_url]:
# a single-binary Tempo config on loopback: local block storage and WAL under
# <dir>, in-memory rings (memberlist never binds), OTLP receivers for gRPC and
# HTTP (POST /v1/traces, protobuf or JSON). With [remote_write_url] (e.g.
# Prometheus' http://127.0.0.1:PORT/api/v1/write, started with
# --web.enable-remote-write-receiver) the metrics generator writes span
# metrics and service graphs there. Start: tempo -config.file=<file>; ready
# when /ready answers 200 (about 15 s); a trace is found by id at once, by
# TraceQL search about 2 s after its last span.
tempo_config() {
  local dir=$1 http=$2 grpc=$3 otlp_grpc=$4 otlp_http=$5 rw=${6:-}
  cat <<EOF
target: all
stream_over_http_enabled: true
server:
  http_listen_address: 127.0.0.1
  http_listen_port: $http
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: $grpc
  log_level: warn
distributor:
  receivers:
    otlp:
      protocols:
        grpc:
          endpoint: 127.0.0.1:$otlp_grpc
        http:
          endpoint: 127.0.0.1:$otlp_http
ingester:
  trace_idle_period: 1s  # a trace is searchable once idle and flushed (defaults 10s)
  flush_check_period: 1s
  max_block_duration: 5m
  lifecycler:
    address: 127.0.0.1
    ring:
      kvstore:
        store: inmemory
      replication_factor: 1
querier:
  frontend_worker:
    frontend_address: 127.0.0.1:$grpc
storage:
  trace:
    backend: local
    wal:
      path: $dir/wal
    local:
      path: $dir/blocks
usage_report:
  reporting_enabled: false
EOF
  [[ -z $rw ]] && return 0
  cat <<EOF
metrics_generator:
  ring:
    kvstore:
      store: inmemory
    instance_addr: 127.0.0.1
  registry:
    collection_interval: 2s  # default 15s
    external_labels:
      source: tempo
  storage:
    path: $dir/generator/wal
    remote_write:
      - url: $rw
        send_exemplars: true
  traces_storage:
    path: $dir/generator/traces
overrides:
  defaults:
    metrics_generator:
      processors: [service-graphs, span-metrics]
EOF
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case "${1:-}" in
    prometheus) build_prometheus ;;
    promtool) build_promtool ;;
    loki) build_loki ;;
    tempo) build_tempo ;;
    all) build_prometheus; build_promtool; build_loki; build_tempo ;;
    loki-config) shift; [[ $# -eq 3 ]] || { echo "usage: $0 loki-config <dir> <http_port> <grpc_port>" >&2; exit 2; }
      loki_config "$@" ;;
    tempo-config) shift; [[ $# -eq 5 || $# -eq 6 ]] ||
      { echo "usage: $0 tempo-config <dir> <http_port> <grpc_port> <otlp_grpc_port> <otlp_http_port> [remote_write_url]" >&2; exit 2; }
      tempo_config "$@" ;;
    *) echo "usage: $0 prometheus|promtool|loki|tempo|all|loki-config ARGS|tempo-config ARGS" >&2; exit 2 ;;
  esac
  # bash parses this whole block before running it; exiting here means an edit
  # of this file during a long build cannot make bash read on at a stale offset.
  exit 0
fi
