#!/usr/bin/env bash
# hack/airgap/stack-images.sh: the images kube-prometheus-stack runs, made on
# this machine because no registry can be reached (README.md). Each program is
# built from its Go module at the tag the chart names (testbin/stack.sh,
# testbin/backends.sh; cached binaries), then put on storeops/runtime-base
# (base-images.sh) as uid 65534, with the entrypoint of the upstream image:
#   storeops/prometheus-operator:v0.93.1         /bin/operator
#   storeops/prometheus-config-reloader:v0.93.1  /bin/prometheus-config-reloader
#   storeops/kube-state-metrics:v2.20.0          /kube-state-metrics
#   storeops/node-exporter:v1.12.1               /bin/node_exporter
#   storeops/alertmanager:v0.34.0                /bin/alertmanager (API only, no UI)
#   storeops/prometheus:v3.15.0                  /bin/prometheus (API only, no UI)
#   storeops/otelcol:0.160.0                     /otelcol (testbin/otelcol: the
#                                                components the stack's config uses)
# charts/stack/airgap/kube-prometheus-stack.yaml and collector.sh name them. An image is
# rebuilt only when its binary or base changed (label storeops.content); the
# binaries are the cache, so no tar is saved. Prints the image names on stdout.
#   bash hack/airgap/stack-images.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/airgap/lib.sh
source "$here/lib.sh"
# shellcheck source=testbin/stack.sh disable=SC1091
source "$here/../../testbin/stack.sh"
# testbin/install.sh's collector version (the directory it builds names it).
OTELCOL_VERSION=0.160.0
build_otelcol() {
  local binary
  binary=$(bash "$here/../../testbin/install.sh" otelcol) || return 1
  [[ $binary == */otelcol-$OTELCOL_VERSION-*/otelcol ]] ||
    die "testbin/install.sh built $binary, not the collector $OTELCOL_VERSION this script names"
  echo "$binary"
}
list=false
case ${1:-} in
  --list) list=true ;;
  '') ;;
  *) die "usage: $0 [--list]  (--list: the image names only, nothing built)" ;;
esac
if ! $list; then
  docker info >/dev/null 2>&1 || die "no docker engine answers: make engine (hack/airgap/engine.sh)"
  bash "$here/base-images.sh" runtime >&2
  base=storeops/runtime-base:bookworm
  base_id=$(docker image inspect -f '{{.Id}}' "$base")
fi

# program_image WORK IMAGE LABEL BINARY BASE_ID PATH ENTRYPOINT_JSON WORKDIR
program_image() {
  local work=$1 image=$2 label=$3 binary=$4 path=$6 entrypoint=$7 workdir=$8
  cp "$binary" "$work/program"
  cat >"$work/Dockerfile" <<DOCKERFILE
FROM $base
COPY program $path
WORKDIR $workdir
USER 65534:65534
LABEL storeops.content="$label" org.opencontainers.image.source="$(basename "$path") built from source by storeops hack/airgap/stack-images.sh"
ENTRYPOINT $entrypoint
DOCKERFILE
  DOCKER_BUILDKIT=0 docker build -q -t "$image" "$work" >/dev/null
}

# image IMAGE BUILD_FUNCTION PATH ENTRYPOINT_JSON [WORKDIR]: builds the
# program (cached), then the image where its label is not current.
image() {
  if $list; then echo "$1" && return; fi
  local binary sum
  binary=$("$2") || die "building the program of $1 failed"
  sum=$(sha256sum "$binary" | cut -d' ' -f1)
  ensure --no-save "$1" program_image "$binary" "$base_id" "$3" "$4" "${5:-/}" "$sum" >&2
  echo "$1"
}

image "storeops/prometheus-operator:v$PROMETHEUS_OPERATOR_VERSION" build_prometheus_operator /bin/operator '["/bin/operator"]'
image "storeops/prometheus-config-reloader:v$PROMETHEUS_OPERATOR_VERSION" build_prometheus_config_reloader \
  /bin/prometheus-config-reloader '["/bin/prometheus-config-reloader"]'
image "storeops/kube-state-metrics:v$KUBE_STATE_METRICS_VERSION" build_kube_state_metrics /kube-state-metrics \
  '["/kube-state-metrics", "--port=8080", "--telemetry-port=8081"]'
image "storeops/node-exporter:v$NODE_EXPORTER_VERSION" build_node_exporter /bin/node_exporter '["/bin/node_exporter"]'
image "storeops/alertmanager:v$ALERTMANAGER_VERSION" build_alertmanager /bin/alertmanager '["/bin/alertmanager"]' /alertmanager
image "storeops/prometheus:v$PROMETHEUS_VERSION" build_prometheus /bin/prometheus '["/bin/prometheus"]' /prometheus
image "storeops/otelcol:$OTELCOL_VERSION" build_otelcol /otelcol '["/otelcol"]'
