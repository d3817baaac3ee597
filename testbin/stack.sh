#!/usr/bin/env bash
# Builds the programs of kube-prometheus-stack that the air-gapped kind
# cluster runs (hack/airgap/stack-images.sh puts each in an image) from
# source through the Go module proxy, once, into the same versioned cache as
# testbin/k8s.sh and testbin/backends.sh:
#   ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/<program>-<version>/<program>
# The versions are the image tags kube-prometheus-stack 88.6.1 names
# (charts/stack/kube-prometheus-stack.yaml pins the same tags). All Apache-2.0
# (testbin/licences.tsv). Prometheus and Alertmanager: testbin/backends.sh.
# Each build_* function prints the binary's path on stdout, progress on stderr.
#   bash testbin/stack.sh prometheus-operator|prometheus-config-reloader|kube-state-metrics|node-exporter|all
set -euo pipefail

# shellcheck source=testbin/backends.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/backends.sh"

PROMETHEUS_OPERATOR_VERSION=${PROMETHEUS_OPERATOR_VERSION:-0.93.1}
KUBE_STATE_METRICS_VERSION=${KUBE_STATE_METRICS_VERSION:-2.20.0}
NODE_EXPORTER_VERSION=${NODE_EXPORTER_VERSION:-1.12.1}

# The operator's go.mod replaces its own API and client modules by local
# paths, which the wrapper drops: it requires their published versions.
_stack_gomod_operator() {
  local m=github.com/prometheus-operator/prometheus-operator
  _backends_wrapper_gomod prometheus-operator "$m@v$PROMETHEUS_OPERATOR_VERSION" \
    "$m/pkg/apis/monitoring v$PROMETHEUS_OPERATOR_VERSION" "$m/pkg/client v$PROMETHEUS_OPERATOR_VERSION"
}
_stack_gomod_ksm() {
  _backends_wrapper_gomod kube-state-metrics "k8s.io/kube-state-metrics/v2@v$KUBE_STATE_METRICS_VERSION"
}
_stack_gomod_node_exporter() {
  _backends_wrapper_gomod node-exporter "github.com/prometheus/node_exporter@v$NODE_EXPORTER_VERSION"
}

# Version stamps as each project's Makefile (promu) sets them.
_stack_version_ldflags() {
  local p=github.com/prometheus/common/version
  echo "-X $p.Version=$1 -X $p.Branch=HEAD -X $p.BuildUser=storeops@testbin"
}
_stack_operator_ldflags() { _stack_version_ldflags "$PROMETHEUS_OPERATOR_VERSION"; }
_stack_ksm_ldflags() { _stack_version_ldflags "v$KUBE_STATE_METRICS_VERSION"; }
_stack_node_exporter_ldflags() { _stack_version_ldflags "$NODE_EXPORTER_VERSION"; }

build_prometheus_operator() {
  _backends_build prometheus-operator "$PROMETHEUS_OPERATOR_VERSION" \
    github.com/prometheus-operator/prometheus-operator/cmd/operator \
    "github.com/prometheus-operator/prometheus-operator@v$PROMETHEUS_OPERATOR_VERSION" \
    _stack_operator_ldflags _stack_gomod_operator
}
build_prometheus_config_reloader() {
  _backends_build prometheus-config-reloader "$PROMETHEUS_OPERATOR_VERSION" \
    github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader \
    "github.com/prometheus-operator/prometheus-operator@v$PROMETHEUS_OPERATOR_VERSION" \
    _stack_operator_ldflags _stack_gomod_operator
}
build_kube_state_metrics() {
  _backends_build kube-state-metrics "$KUBE_STATE_METRICS_VERSION" k8s.io/kube-state-metrics/v2 \
    "k8s.io/kube-state-metrics/v2@v$KUBE_STATE_METRICS_VERSION" _stack_ksm_ldflags _stack_gomod_ksm
}
build_node_exporter() {
  _backends_build node-exporter "$NODE_EXPORTER_VERSION" github.com/prometheus/node_exporter \
    "github.com/prometheus/node_exporter@v$NODE_EXPORTER_VERSION" _stack_node_exporter_ldflags _stack_gomod_node_exporter
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case "${1:-}" in
    prometheus-operator) build_prometheus_operator ;;
    prometheus-config-reloader) build_prometheus_config_reloader ;;
    kube-state-metrics) build_kube_state_metrics ;;
    node-exporter) build_node_exporter ;;
    all) build_prometheus_operator; build_prometheus_config_reloader; build_kube_state_metrics; build_node_exporter ;;
    *) echo "usage: $0 prometheus-operator|prometheus-config-reloader|kube-state-metrics|node-exporter|all" >&2; exit 2 ;;
  esac
  exit 0
fi
