#!/usr/bin/env bash
# Builds real Kubernetes control-plane programs from source through the Go
# module proxy (no GitHub releases, no images), once, into a versioned cache:
#   ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/<program>-<version>/<program>
# Each build_* function prints the binary's path on stdout, progress on stderr;
# monitoring_crds prints the path of a directory of prometheus-operator CRDs.
# Sourced by testbin/install.sh, or run directly:
#   bash testbin/k8s.sh etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok|helm|helm3|kind|monitoring-crds
# How to start them for loopback tests: testbin/README-k8s.md.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.2}   # k8s.io/kubernetes v1.37.2, staging modules v0.37.2
ETCD_VERSION=${ETCD_VERSION:-3.6.16} # go.etcd.io/etcd/server/v3 (its main package is the etcd binary)
KWOK_VERSION=${KWOK_VERSION:-0.8.0}  # sigs.k8s.io/kwok
HELM_VERSION=${HELM_VERSION:-4.3.1}  # helm.sh/helm/v4 (cmd/helm)
HELM3_VERSION=${HELM3_VERSION:-3.22.0} # helm.sh/helm/v3: `make deploy` is run with both majors on kind
KIND_VERSION=${KIND_VERSION:-0.33.0} # sigs.k8s.io/kind (only its config loader runs here: no container engine)
PROM_OPERATOR_VERSION=${PROM_OPERATOR_VERSION:-0.94.1} # github.com/prometheus-operator/prometheus-operator

_k8s_log() { echo "testbin: $*" >&2; }

# _k8s_download <module@version> [field]: downloads the module and prints one
# field of `go mod download -json` (Dir by default; GoMod, Info, Sum), failing
# with the proxy's error and how to list what it serves. Runs outside any
# module, so no caller's go.sum is touched.
_k8s_download() {
  local json v field=${2:-Dir}
  json=$(cd / && GOFLAGS=-mod=mod GOWORK=off go mod download -json "$1") || true # on failure, the JSON holds "Error"
  v=$(sed -n "s/^[[:space:]]*\"$field\": \"\(.*\)\",\{0,1\}\$/\1/p" <<<"$json")
  if [[ -z $v ]]; then
    _k8s_log "cannot download $1: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
    _k8s_log "the versions the module proxy lists: go list -m -versions ${1%@*} (run outside a module)"
    return 1
  fi
  echo "$v"
}

# _k8s_build <program> <version> <package> <module@version> <ldflags> <go.mod writer function> [extra]
# (GO_BUILD_TAGS, if set: go build's -tags; <version> then names the variant too.)
# Builds <package> in a throw-away wrapper module (written by the function,
# then `go mod tidy -e`, which tolerates test-only modules the proxy refuses;
# since -e would also silently swap a refused <module@version> for another
# version, the resolved version is checked),
# under a lock so parallel callers build once, and moves the binary into place
# atomically (rename on the same filesystem). [extra] is a function run in the
# wrapper module with the output directory as argument, before the binary (the
# "done" marker) is moved in.
_k8s_build() {
  local prog=$1 version=$2 pkg=$3 want=$4 ldflags=$5 write_gomod=$6 extra=${7:-}
  local cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin}
  local dir="$cache/$prog-$version"
  if [[ ! -x $dir/$prog ]]; then
    command -v go >/dev/null || { _k8s_log "go is required (the Go toolchain, >= 1.26 for etcd $ETCD_VERSION and kwok $KWOK_VERSION)"; return 1; }
    mkdir -p "$cache"
    # Every step checks itself: errexit does not apply inside `( ... ) || ...`
    # nor in the command substitutions callers use to capture the path.
    (
      exec 9>"$cache/.$prog-$version.lock" && flock 9 || exit 1
      [[ -x $dir/$prog ]] && exit 0
      export GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-local}
      work=$(mktemp -d "$cache/.$prog-build.XXXXXX") || exit 1
      trap 'rm -rf "$work"' EXIT
      _k8s_log "building $prog $version from source ($pkg); several minutes, once"
      start=$SECONDS
      cd "$work" || exit 1
      "$write_gomod" >go.mod.new && mv go.mod.new go.mod || exit 1
      printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >tools.go || exit 1
      go mod tidy -e >&2 || exit 1
      got=$(go list -m -f '{{.Path}}@{{.Version}}' "${want%@*}" 2>/dev/null) || got=none
      if [[ $got != "$want" ]]; then
        _k8s_log "wanted $want, resolved $got: the module proxy refuses it?"
        _k8s_log "check: curl -s https://proxy.golang.org/${want%@*}/@v/${want#*@}.zip -o /dev/null -w '%{http_code}'"
        exit 1
      fi
      go build -trimpath ${GO_BUILD_TAGS:+-tags "$GO_BUILD_TAGS"} -ldflags="-s -w $ldflags" -o "$work/$prog" "$pkg" >&2 || exit 1
      mkdir -p "$dir" || exit 1
      if [[ -n $extra ]]; then "$extra" "$dir" || exit 1; fi
      mv -f "$work/$prog" "$dir/$prog" || exit 1
      _k8s_log "built $dir/$prog in $((SECONDS - start))s"
    ) || { _k8s_log "building $prog $version failed"; return 1; }
  fi
  echo "$dir/$prog"
}

_k8s_gomod_etcd() {
  local m
  printf 'module storeops/testbin/etcd\n\ngo 1.26.0\n\nrequire (\n'
  for m in server api client/pkg client pkg; do printf '\tgo.etcd.io/etcd/%s/v3 v%s\n' "$m" "$ETCD_VERSION"; done
  printf ')\n'
}

# k8s.io/kubernetes replaces every staging module (k8s.io/api, apimachinery,
# apiserver, client-go, ...) with ./staging/src/..., which breaks `go install`;
# the wrapper replaces each with its published v0.<minor>.<patch> instead.
_k8s_gomod_kube() {
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -n $gomod && -f $gomod ]] || { _k8s_log "cannot download k8s.io/kubernetes@v$K8S_VERSION"; return 1; }
  # Upstream's go and godebug lines: the binaries behave as upstream builds them.
  printf 'module storeops/testbin/kube\n\n'
  grep -E '^(go|godebug) ' "$gomod"
  printf '\n'
  printf 'require k8s.io/kubernetes v%s\n\nreplace (\n' "$K8S_VERSION"
  sed -n "s#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 v0.${K8S_VERSION#1.}#p" "$gomod"
  printf ')\n'
}

_k8s_gomod_kwok() {
  printf 'module storeops/testbin/kwok\n\ngo 1.26.0\n\nrequire sigs.k8s.io/kwok v%s\n' "$KWOK_VERSION"
}

# Version stamping as hack/lib/version.sh does, so /version reports v$K8S_VERSION.
_k8s_kube_ldflags() {
  local p ld="" minor=${K8S_VERSION#1.}
  minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$ld"
}

_k8s_build_kube() {
  _k8s_build "$1" "$K8S_VERSION" "k8s.io/kubernetes/cmd/$1" "k8s.io/kubernetes@v$K8S_VERSION" \
    "$(_k8s_kube_ldflags)" _k8s_gomod_kube
}

build_etcd() {
  _k8s_build etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" \
    "-X go.etcd.io/etcd/api/v3/version.GitSHA=v$ETCD_VERSION" _k8s_gomod_etcd
}
build_kube_apiserver() { _k8s_build_kube kube-apiserver; }
build_kube_controller_manager() { _k8s_build_kube kube-controller-manager; }
build_kube_scheduler() { _k8s_build_kube kube-scheduler; }
# kwok does nothing without Stage configs; next to the binary goes kwok.yaml
# (pass it with --config): kwok's own "fast" node and pod stages plus the node
# heartbeat, taken from the same module version.
_k8s_kwok_stages() {
  local src f
  src=$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok) && [[ -d $src/kustomize/stage ]] || return 1
  for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
    pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    echo "---"; cat "$src/kustomize/stage/$f.yaml" || return 1
  done >"$1/kwok.yaml.tmp" && mv -f "$1/kwok.yaml.tmp" "$1/kwok.yaml"
}
build_kwok() {
  _k8s_build kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok "sigs.k8s.io/kwok@v$KWOK_VERSION" \
    "-X sigs.k8s.io/kwok/pkg/consts.Version=v$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=v$K8S_VERSION" \
    _k8s_gomod_kwok _k8s_kwok_stages
}

_k8s_gomod_helm() {
  printf 'module storeops/testbin/helm\n\ngo 1.26.0\n\nrequire helm.sh/helm/v4 v%s\n' "$HELM_VERSION"
}
# helm's go.mod has no replace directives; stamps as its Makefile does for a
# tag build (the proxy has no commit hash, so gitCommit stays empty).
build_helm() {
  _k8s_build helm "$HELM_VERSION" helm.sh/helm/v4/cmd/helm "helm.sh/helm/v4@v$HELM_VERSION" \
    "-X helm.sh/helm/v4/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
    _k8s_gomod_helm
}

_k8s_gomod_helm3() {
  printf 'module storeops/testbin/helm3\n\ngo 1.26.0\n\nrequire helm.sh/helm/v3 v%s\n' "$HELM3_VERSION"
}
# The binary is named helm3 so that it never shadows Helm 4 on a PATH.
build_helm3() {
  _k8s_build helm3 "$HELM3_VERSION" helm.sh/helm/v3/cmd/helm "helm.sh/helm/v3@v$HELM3_VERSION" \
    "-X helm.sh/helm/v3/internal/version.version=v$HELM3_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
    _k8s_gomod_helm3
}

_k8s_gomod_kind() {
  printf 'module storeops/testbin/kind\n\ngo 1.26.0\n\nrequire sigs.k8s.io/kind v%s\n' "$KIND_VERSION"
}
# kind cannot create clusters without a container engine; the tests run it
# to decode kind-config.yaml with kind's own strict loader.
build_kind() {
  _k8s_build kind "$KIND_VERSION" sigs.k8s.io/kind "sigs.k8s.io/kind@v$KIND_VERSION" "" _k8s_gomod_kind
}

# The ServiceMonitor and PrometheusRule CRDs exactly as the prometheus-operator
# module ships them (controller-gen output, checksummed by the Go sum database),
# so tests apply the real schemas: copied into a temp dir renamed into place.
monitoring_crds() {
  local cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin}
  local dir="$cache/monitoring-crds-$PROM_OPERATOR_VERSION"
  if [[ ! -d $dir ]]; then
    command -v go >/dev/null || { _k8s_log "go is required (to fetch the prometheus-operator module)"; return 1; }
    mkdir -p "$cache"
    (
      exec 9>"$cache/.monitoring-crds-$PROM_OPERATOR_VERSION.lock" && flock 9 || exit 1
      [[ -d $dir ]] && exit 0
      work=$(mktemp -d "$cache/.monitoring-crds-build.XXXXXX") || exit 1
      trap 'rm -rf "$work"' EXIT
      _k8s_copy_crds "$work" || exit 1
      mv -T "$work" "$dir" || exit 1
      _k8s_log "wrote $dir"
    ) || { _k8s_log "fetching monitoring CRDs $PROM_OPERATOR_VERSION failed"; return 1; }
  fi
  echo "$dir"
}

# _k8s_copy_crds <dir>: copies the two CRDs from the module cache into <dir>,
# checking each names the expected kind (a moved file fails loudly).
_k8s_copy_crds() {
  local mod="github.com/prometheus-operator/prometheus-operator@v$PROM_OPERATOR_VERSION" json src k f
  _k8s_log "copying ServiceMonitor and PrometheusRule CRDs from $mod"
  json=$(GOFLAGS=-mod=mod go mod download -json "$mod") || true # on failure, the JSON holds "Error"
  src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  [[ -n $src && -d $src/example/prometheus-operator-crd ]] ||
    { _k8s_log "cannot download $mod: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"; return 1; }
  for k in servicemonitors:ServiceMonitor prometheusrules:PrometheusRule; do
    f=$src/example/prometheus-operator-crd/monitoring.coreos.com_${k%:*}.yaml
    grep -q "^    kind: ${k#*:}\$" "$f" || { _k8s_log "no ${k#*:} CRD in $f"; return 1; }
    cp "$f" "$1/" || return 1
  done
  chmod 755 "$1" && chmod 644 "$1"/*.yaml # mktemp -d is 0700, module cache files 0444
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case "${1:-}" in
    etcd) build_etcd ;;
    kube-apiserver) build_kube_apiserver ;;
    kube-controller-manager) build_kube_controller_manager ;;
    kube-scheduler) build_kube_scheduler ;;
    kwok) build_kwok ;;
    helm) build_helm ;;
    helm3) build_helm3 ;;
    kind) build_kind ;;
    monitoring-crds) monitoring_crds ;;
    all) build_etcd; build_kube_apiserver; build_kube_controller_manager; build_kube_scheduler; build_kwok
      build_helm; build_kind; monitoring_crds ;;
    *) echo "usage: $0 etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok|helm|helm3|kind|monitoring-crds|all" >&2; exit 2 ;;
  esac
  # bash parses this whole block before running it; exiting here means an edit
  # of this file during a long build cannot make bash read on at a stale offset.
  exit 0
fi
