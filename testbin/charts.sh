#!/usr/bin/env bash
# Assembles the observability stack's pinned Helm charts, ready for an offline
# `helm template` / `helm install` (no `helm dependency build`, no Helm repo),
# from the chart repositories' sources served by the Go module proxy:
#   ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/charts-<hash of the pins>/
#     kube-prometheus-stack/   with charts/: crds, grafana, kube-state-metrics,
#                              prometheus-node-exporter, prometheus-windows-exporter
#     loki/                    with charts/: rollout-operator, minio (stub, see below)
#     tempo/
#     VERSIONS                 chart, version, appVersion, source, note
# Prints the directory on stdout (progress on stderr). Idempotent (a finished
# directory is reused) and atomic (assembled in a temp dir, then renamed).
#   bash testbin/charts.sh            # assemble (once), print the directory
#   bash testbin/charts.sh versions   # print the pinned chart versions
# The tests read the directory from STACK_CHARTS_DIR (repo-tests/tests/repo/stack.rs).
# Users install the same versions from the Helm repositories: charts/stack/README.md.
set -euo pipefail

# The chart repositories as Go modules (pseudo-versions of their main branch).
# Grafana's own repository (github.com/grafana/helm-charts) moved the grafana,
# tempo and loki (OSS) charts to grafana-community in 2026; only
# rollout-operator, a disabled dependency of loki, is still taken from it.
PROM_CHARTS_MODULE=${PROM_CHARTS_MODULE:-github.com/prometheus-community/helm-charts@v0.0.0-20260828105119-ed5d7d9b5933}
GRAFANA_COMMUNITY_CHARTS_MODULE=${GRAFANA_COMMUNITY_CHARTS_MODULE:-github.com/grafana-community/helm-charts@v0.0.0-20260829030558-dbf9f4fb5fa1}
GRAFANA_CHARTS_MODULE=${GRAFANA_CHARTS_MODULE:-github.com/grafana/helm-charts@v0.0.0-20260820194520-7a0ab968961a}

# The chart versions those sources hold; checked against each Chart.yaml, so a
# changed module pin cannot silently change a chart. Keep in step with
# charts/stack/README.md (the `helm install --version` pins).
KPS_VERSION=88.6.1                # prometheus-community/kube-prometheus-stack
KSM_VERSION=8.4.1                 # prometheus-community/kube-state-metrics (kps asks 8.4.1)
NODE_EXPORTER_VERSION=4.56.1      # prometheus-community/prometheus-node-exporter (kps asks 4.56.1)
WINDOWS_EXPORTER_VERSION=0.12.8   # prometheus-community/prometheus-windows-exporter (kps asks 0.12.*; disabled)
GRAFANA_VERSION=13.0.1            # grafana-community/grafana (kps 88.6.1 asks 12.11.2: see below)
LOKI_CHART_VERSION=18.11.7        # grafana-community/loki (Loki 3.7.7)
TEMPO_CHART_VERSION=2.3.0         # grafana-community/tempo (Tempo 2.10.8)
ROLLOUT_OPERATOR_VERSION=0.51.1   # grafana/rollout-operator (loki asks 0.51.1; disabled)
MINIO_STUB_VERSION=5.4.0          # charts.min.io/minio (loki asks 5.4.0; disabled, not served: stub)

# kube-prometheus-stack 88.6.1 was released with grafana chart 12.11.2, whose
# source the module proxy does not serve (only the grafana-community commit
# above, which holds 13.0.1: Grafana 13 distroless image, read-only root
# filesystem). The assembled kube-prometheus-stack vendors 13.0.1 and its
# Chart.yaml constraint is rewritten to match, so the `grafana.enabled`
# condition still applies; `helm install --version 88.6.1` from the repository
# gets 12.11.2. The values in charts/stack/ use keys both versions share.
ASSEMBLY_REVISION=1 # bump when the assembly below changes

_charts_log() { echo "charts: $*" >&2; }

# _charts_module_dir <module@version>: downloads it (outside any module, so no
# go.sum is touched) and prints its directory in the module cache.
_charts_module_dir() {
  local json dir
  json=$(cd / && GOFLAGS=-mod=mod GOWORK=off go mod download -json "$1") || true # on failure, the JSON holds "Error"
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  if [[ -z $dir || ! -d $dir ]]; then
    _charts_log "cannot download $1 through the Go module proxy: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
    return 1
  fi
  echo "$dir"
}

# _charts_field <chart dir> <field>: a top-level scalar of its Chart.yaml.
_charts_field() {
  sed -n "s/^$2:[[:space:]]*\"\{0,1\}\([^\"[:space:]]*\)\"\{0,1\}[[:space:]]*\$/\1/p" "$1/Chart.yaml" | head -n1
}

# _charts_copy <source chart dir> <dest dir> <expected version> <source label> [note]:
# copies a chart (writable: the module cache is read-only), checks its version
# and records it in VERSIONS.
_charts_copy() {
  local src=$1 dest=$2 want=$3 label=$4 note=${5:-}
  [[ -f $src/Chart.yaml ]] || { _charts_log "$src/Chart.yaml is missing (the chart moved?)"; return 1; }
  local got
  got=$(_charts_field "$src" version)
  if [[ $got != "$want" ]]; then
    _charts_log "$src is chart version $got, expected $want: update the pins in $0"
    return 1
  fi
  mkdir -p "$(dirname "$dest")" && cp -R "$src" "$dest" && chmod -R u+w "$dest" || return 1
  printf '%-30s %-10s %-10s %s%s\n' "$(_charts_field "$src" name)" "$got" \
    "$(_charts_field "$src" appVersion)" "$label" "${note:+  # $note}" >>"$VERSIONS"
}

# _charts_stub <dest dir> <name> <version> <why>: a dependency that is disabled
# by its condition and whose source is not served; rendering it fails loudly.
_charts_stub() {
  local dest=$1 name=$2 version=$3 why=$4
  mkdir -p "$dest/templates" || return 1
  printf 'apiVersion: v2\nname: %s\nversion: %s\ndescription: storeops stub (%s)\n' "$name" "$version" "$why" >"$dest/Chart.yaml"
  printf '{{- fail "%s is a stub assembled by testbin/charts.sh (%s); keep it disabled" }}\n' "$name" "$why" >"$dest/templates/stub.yaml"
  printf '%-30s %-10s %-10s %s\n' "$name" "$version" "-" "stub  # $why" >>"$VERSIONS"
}

_charts_pins() {
  printf '%s\n' "$ASSEMBLY_REVISION" "$PROM_CHARTS_MODULE" "$GRAFANA_COMMUNITY_CHARTS_MODULE" "$GRAFANA_CHARTS_MODULE" \
    "$KPS_VERSION" "$KSM_VERSION" "$NODE_EXPORTER_VERSION" "$WINDOWS_EXPORTER_VERSION" "$GRAFANA_VERSION" \
    "$LOKI_CHART_VERSION" "$TEMPO_CHART_VERSION" "$ROLLOUT_OPERATOR_VERSION" "$MINIO_STUB_VERSION"
}

charts_dir() {
  local cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin}
  local hash
  hash=$(_charts_pins | sha256sum | cut -c1-8)
  local dir="$cache/charts-$hash"
  if [[ ! -f $dir/VERSIONS ]]; then
    command -v go >/dev/null || { _charts_log "go is required (the charts come through the Go module proxy)"; return 1; }
    mkdir -p "$cache"
    (
      exec 9>"$cache/.charts-$hash.lock" && flock 9 || exit 1
      [[ -f $dir/VERSIONS ]] && exit 0
      work=$(mktemp -d "$cache/.charts-build.XXXXXX") || exit 1
      trap 'rm -rf "$work"' EXIT
      _charts_log "assembling the stack's charts into $dir"
      prom=$(_charts_module_dir "$PROM_CHARTS_MODULE") || exit 1
      community=$(_charts_module_dir "$GRAFANA_COMMUNITY_CHARTS_MODULE") || exit 1
      grafana=$(_charts_module_dir "$GRAFANA_CHARTS_MODULE") || exit 1
      VERSIONS=$work/VERSIONS
      printf '# chart                        version    appVersion source (Go module of the chart repository)\n' >"$VERSIONS"

      kps=$work/kube-prometheus-stack
      _charts_copy "$prom/charts/kube-prometheus-stack" "$kps" "$KPS_VERSION" "$PROM_CHARTS_MODULE" || exit 1
      # Its crds subchart is in the source tree; the others are fetched by
      # `helm dependency build` from the Chart.yaml repositories: vendor them.
      for want in "kube-state-metrics $KSM_VERSION" "prometheus-node-exporter $NODE_EXPORTER_VERSION" \
        "prometheus-windows-exporter $WINDOWS_EXPORTER_VERSION"; do
        set -- $want
        _charts_copy "$prom/charts/$1" "$kps/charts/$1" "$2" "$PROM_CHARTS_MODULE" "kube-prometheus-stack dependency" || exit 1
      done
      asked=$(awk '/^  - name: grafana$/ { g = 1; next } g && /version:/ { gsub(/[" ]/, "", $2); print $2; exit }' "$kps/Chart.yaml")
      note="kube-prometheus-stack dependency"
      if [[ $asked != "$GRAFANA_VERSION" ]]; then
        note="$note; kube-prometheus-stack $KPS_VERSION asks $asked (not served): constraint rewritten"
        # Only the grafana dependency's version line (the line after its name).
        sed -i "/^  - name: grafana\$/{n;s/version: \"$asked\"/version: \"$GRAFANA_VERSION\"/}" "$kps/Chart.yaml"
        grep -A1 '^  - name: grafana$' "$kps/Chart.yaml" | grep -q "version: \"$GRAFANA_VERSION\"" ||
          { _charts_log "could not rewrite the grafana dependency of kube-prometheus-stack"; exit 1; }
      fi
      _charts_copy "$community/charts/grafana" "$kps/charts/grafana" "$GRAFANA_VERSION" "$GRAFANA_COMMUNITY_CHARTS_MODULE" "$note" || exit 1

      _charts_copy "$community/charts/loki" "$work/loki" "$LOKI_CHART_VERSION" "$GRAFANA_COMMUNITY_CHARTS_MODULE" || exit 1
      _charts_copy "$grafana/charts/rollout-operator" "$work/loki/charts/rollout-operator" "$ROLLOUT_OPERATOR_VERSION" \
        "$GRAFANA_CHARTS_MODULE" "loki dependency, disabled (rollout_operator.enabled)" || exit 1
      _charts_stub "$work/loki/charts/minio" minio "$MINIO_STUB_VERSION" \
        "loki dependency, disabled (minio.enabled); charts.min.io is not reachable here" || exit 1

      _charts_copy "$community/charts/tempo" "$work/tempo" "$TEMPO_CHART_VERSION" "$GRAFANA_COMMUNITY_CHARTS_MODULE" || exit 1

      # Every dependency a Chart.yaml lists must now be in its charts/ directory.
      for chart in "$kps" "$work/loki" "$work/tempo"; do
        for dep in $(awk '/^dependencies:/ { d = 1; next } /^[^ -]/ { d = 0 } d && /- name:/ { print $3 }' "$chart/Chart.yaml"); do
          [[ -f $chart/charts/$dep/Chart.yaml ]] || { _charts_log "$(basename "$chart"): dependency $dep not vendored"; exit 1; }
        done
      done
      rm -f "$kps/Chart.lock" "$work/loki/Chart.lock" "$work/tempo/Chart.lock" # they name the original digests
      rm -rf "$dir" # never complete here (no VERSIONS); a finished one is renamed in whole
      mv "$work" "$dir" || exit 1
      trap - EXIT
      _charts_log "assembled $dir:"
      sed 's/^/  /' "$dir/VERSIONS" >&2
    ) || { _charts_log "assembling the charts failed"; return 1; }
  fi
  echo "$dir"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case "${1:-}" in
    "") charts_dir ;;
    versions)
      printf '%s %s\n' kube-prometheus-stack "$KPS_VERSION" loki "$LOKI_CHART_VERSION" tempo "$TEMPO_CHART_VERSION" \
        "grafana (subchart)" "$GRAFANA_VERSION" "kube-state-metrics (subchart)" "$KSM_VERSION" \
        "prometheus-node-exporter (subchart)" "$NODE_EXPORTER_VERSION" ;;
    *) echo "usage: $0 [versions]" >&2; exit 2 ;;
  esac
fi
