#!/usr/bin/env bash
# Builds every program a kind node for Kubernetes $K8S_VERSION runs, from source
# through the Go module proxy (no GitHub, no release downloads, no images),
# once, into the versioned cache of testbin/k8s.sh:
#   ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/<program>-<version>/
# Each build_* function prints the binary's path on stdout (containerd and the
# CNI plugins: the directory holding their binaries), progress on stderr. A
# fresh build runs the program's version command before it is moved into place;
# once in place, a call only prints the path.
# Source it (source testbin/kind-node.sh; build_containerd) or run it:
#   bash testbin/kind-node.sh kubelet|kubeadm|kubectl|kube-proxy|kube-apiserver|
#     kube-controller-manager|kube-scheduler|etcd|containerd|runc|crictl|
#     cni-plugins|coredns|local-path-provisioner|pause|all
# `all` prints NAME=path lines. Versions, sources and timings: README-kind-node.md.
set -euo pipefail

# K8S_VERSION, ETCD_VERSION, _k8s_build_kube (the wrapper module and the
# version stamps of hack/lib/version.sh), build_etcd, build_kube_apiserver,
# build_kube_controller_manager, build_kube_scheduler, _k8s_log; k8s.sh runs
# nothing when sourced.
# shellcheck source=testbin/k8s.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/k8s.sh"

# The pins of kind 0.33.0's base image (images/base/Dockerfile in its module),
# except where the comment says otherwise.
CONTAINERD_VERSION=${CONTAINERD_VERSION:-2.3.4} # containerd, ctr, containerd-shim-runc-v2
RUNC_VERSION=${RUNC_VERSION:-1.4.3}             # cgo with libseccomp (Debian: libseccomp-dev)
CRICTL_VERSION=${CRICTL_VERSION:-1.37.0}        # kind pins 1.36.0 (served, unlisted); 1.37.0 matches the cluster
CNI_PLUGINS_VERSION=${CNI_PLUGINS_VERSION:-1.9.1} # host-local, loopback, ptp, portmap (kind's four)
COREDNS_VERSION=${COREDNS_VERSION:-1.14.6}      # kubeadm 1.37.2's CoreDNSVersion
# kind 0.33.0's image is v0.0.34, which the proxy refuses (403); v0.0.30 is the
# only version it lists (of the unlisted ones it serves v0.0.33; v0.0.31, 32, 34
# and 35 are refused). v0.0.30 is the one the node was proven with (issue 14).
LOCAL_PATH_VERSION=${LOCAL_PATH_VERSION:-0.0.30}
# TAG of build/pause/Makefile in k8s.io/kubernetes v$K8S_VERSION (checked), and
# kubeadm's PauseVersion: the node's registry.k8s.io/pause:3.10.2.
PAUSE_VERSION=${PAUSE_VERSION:-3.10.2}

containerd_module=github.com/containerd/containerd/v2
runc_module=github.com/opencontainers/runc
crictl_module=sigs.k8s.io/cri-tools
cni_plugins_module=github.com/containernetworking/plugins
coredns_module=github.com/coredns/coredns
local_path_module=github.com/rancher/local-path-provisioner
pause_module=k8s.io/kubernetes # build/pause/linux/pause.c, built with gcc

# _kn_download <module@version>: its directory in the module cache (k8s.sh).
_kn_download() { _k8s_download "$1" Dir; }

# _kn_build <name> <version> <module> <recipe>
# Builds in the module's own directory in the module cache (read-only; upstream's
# go.mod, go.sum and replace directives, -mod=readonly: a dependency missing
# from its go.sum fails instead of being resolved anew), under a lock so
# parallel callers build once. <recipe> runs there with a fresh output
# directory as argument, builds into it and checks each binary runs; the
# directory is then renamed into place: <cache>/<name>-<version>/. Prints it.
_kn_build() {
  local name=$1 version=$2 module=$3 recipe=$4
  local cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin}
  local dir="$cache/$name-$version"
  if [[ ! -d $dir ]]; then
    command -v go >/dev/null || { _k8s_log "go is required (the Go toolchain, >= 1.26.3 for containerd $CONTAINERD_VERSION)"; return 1; }
    mkdir -p "$cache"
    # Every step checks itself: errexit does not apply inside `( ... ) || ...`.
    (
      exec 9>"$cache/.$name-$version.lock" && flock 9 || exit 1
      [[ -d $dir ]] && exit 0
      # shellcheck disable=SC2031 # k8s.sh's _k8s_build exports these in its own subshell
      export GOFLAGS="-mod=readonly -buildvcs=false -trimpath" GOWORK=off GOTOOLCHAIN=${GOTOOLCHAIN:-local}
      work=$(mktemp -d "$cache/.$name-build.XXXXXX") || exit 1
      trap 'rm -rf "$work"' EXIT
      _k8s_log "building $name $version from source ($module); once"
      start=$SECONDS
      src=$(_kn_download "$module") || exit 1
      cd "$src" || exit 1
      "$recipe" "$work" || exit 1
      chmod 755 "$work" && mv -T "$work" "$dir" || exit 1
      _k8s_log "built $dir in $((SECONDS - start))s ($(du -sh "$dir" | cut -f1))"
    ) || { _k8s_log "building $name $version failed"; return 1; }
  fi
  echo "$dir"
}

# _kn_go <cgo> <out> <package> <tags> <ldflags> [go build flags...]
_kn_go() {
  local cgo=$1 out=$2 pkg=$3 tags=$4 ldflags=$5
  shift 5
  _k8s_log "go build $pkg (CGO_ENABLED=$cgo${tags:+, tags: $tags}${*:+, $*})"
  CGO_ENABLED=$cgo go build -tags "$tags" -ldflags "$ldflags" "$@" -o "$out" "$pkg" >&2
}

# _kn_check <expected> <command...>: the built program must run and print <expected>.
_kn_check() {
  local want=$1 out
  shift
  out=$("$@" 2>&1) || true # some print their version with a non-zero status
  if [[ $out != *"$want"* ]]; then
    _k8s_log "${1##*/}${2:+ ${*:2}}: printed no \"$want\": ${out:0:400}"
    return 1
  fi
  _k8s_log "ok: ${1##*/}${2:+ ${*:2}}: $(grep -m 1 -F -- "$want" <<<"$out")"
}

# kind builds these with `make` in a clone; the flags below are those the
# projects' Makefiles pass (version stamps without a commit: the proxy gives none).

# containerd's Makefile: containerd and ctr with cgo, -buildmode=pie,
# BUILDTAGS (kind: no_aufs no_zfs no_btrfs no_devmapper) + urfave_cli_no_docs;
# the shim static without cgo, + no_grpc.
_kn_containerd() {
  local p=$containerd_module tags="no_aufs no_zfs no_btrfs no_devmapper urfave_cli_no_docs" ld cmd
  ld="-s -w -X $p/version.Version=v$CONTAINERD_VERSION -X $p/version.Package=$p"
  command -v gcc >/dev/null || { _k8s_log "containerd is built with cgo: gcc is required (apt-get install -y gcc libc6-dev)"; return 1; }
  for cmd in containerd ctr; do
    _kn_go 1 "$1/$cmd" "./cmd/$cmd" "$tags" "$ld" -buildmode=pie || return 1
  done
  _kn_go 0 "$1/containerd-shim-runc-v2" ./cmd/containerd-shim-runc-v2 "$tags no_grpc" "$ld -extldflags -static" || return 1
  _kn_check "v$CONTAINERD_VERSION" "$1/containerd" --version &&
    _kn_check "v$CONTAINERD_VERSION" "$1/ctr" --version &&
    _kn_check "v$CONTAINERD_VERSION" "$1/containerd-shim-runc-v2" -v
}

# runc needs libseccomp's headers and pkg-config for cgo (Debian:
# libseccomp-dev, pkg-config); installed when missing and apt-get can.
_kn_libseccomp() {
  pkg-config --exists libseccomp 2>/dev/null && return 0
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    _k8s_log "runc needs libseccomp-dev: apt-get install -y libseccomp-dev pkg-config"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y libseccomp-dev pkg-config >&2 ||
      { apt-get update >&2 && apt-get install -y libseccomp-dev pkg-config >&2; } || true
  fi
  pkg-config --exists libseccomp 2>/dev/null && return 0
  _k8s_log "runc $RUNC_VERSION is built with cgo and seccomp: it needs the Debian package libseccomp-dev" \
    "(and pkg-config, gcc); install them: apt-get install -y libseccomp-dev pkg-config gcc"
  return 1
}

# runc's `make runc`: cgo, -buildmode=pie, tags seccomp urfave_cli_no_docs;
# linked to libseccomp.so.2 (the node has libseccomp2, as kind's does).
# Its version comes from the module's VERSION file.
_kn_runc() {
  _kn_libseccomp || return 1
  _kn_go 1 "$1/runc" . "seccomp urfave_cli_no_docs" "-s -w" -buildmode=pie || return 1
  _kn_check "runc version $RUNC_VERSION" "$1/runc" --version &&
    _kn_check "libseccomp: 2." "$1/runc" --version
}

# cri-tools' Makefile: CGO_ENABLED=0, -trimpath, pkg/version.Version without "v".
_kn_crictl() {
  _kn_go 0 "$1/crictl" ./cmd/crictl "" "-s -w -X $crictl_module/pkg/version.Version=$CRICTL_VERSION" || return 1
  _kn_check "crictl version $CRICTL_VERSION" "$1/crictl" --version
}

# The four plugins of kind's base image, CGO_ENABLED=0, with the version stamp
# of the plugins' build_linux.sh (they print it when run without CNI_COMMAND).
_kn_cni_plugins() {
  local p
  for p in ipam/host-local main/loopback main/ptp meta/portmap; do
    _kn_go 0 "$1/${p#*/}" "./plugins/$p" "" \
      "-s -w -X $cni_plugins_module/pkg/utils/buildversion.BuildVersion=v$CNI_PLUGINS_VERSION" || return 1
    _kn_check "v$CNI_PLUGINS_VERSION" "$1/${p#*/}" || return 1
  done
}

# coredns's Makefile: CGO_ENABLED=0, the plugins of its own plugin.cfg (the
# generated zplugin.go imports them, zdirectives.go orders them) but for
# those that reach a cloud, another store or a tracer: their SDKs (AWS,
# Azure, Google, Datadog, Nomad, etcd, QUIC, MaxMind) were most of the
# build. Upstream's way to leave plugins out: edit plugin.cfg and generate
# core/plugin/zplugin.go and core/dnsserver/zdirectives.go again; here the
# two files are written in a copy of the module (the module cache is
# read-only, and go build -overlay refuses files in it). A Corefile naming a
# plugin left out fails to load, naming it; kubeadm's uses none of them.
COREDNS_PLUGINS_LEFT_OUT="geoip quic https3 grpc_server trace dnstap route53 azure clouddns etcd grpc sign nomad"
_kn_coredns() {
  local out=$1 work name pkg directives="" imports="" rc=0
  work=$(mktemp -d) || return 1
  cp -R . "$work/src" && chmod -R u+w "$work/src" || { rm -rf "$work"; return 1; }
  while IFS=: read -r name pkg; do
    [[ -n $name && $name != \#* && " $COREDNS_PLUGINS_LEFT_OUT " != *" $name "* ]] || continue
    directives+=$'\t"'"$name"$'",\n'
    [[ $pkg == */* ]] || pkg=$coredns_module/plugin/$pkg
    imports+=$'\t_ "'"$pkg"$'"\n'
  done <plugin.cfg
  printf '// generated by storeops testbin/kind-node.sh\n\npackage dnsserver\n\nvar Directives = []string{\n%s}\n' \
    "$directives" >"$work/src/core/dnsserver/zdirectives.go"
  printf '// generated by storeops testbin/kind-node.sh\n\npackage plugin\n\nimport (\n%s\n)\n' \
    "$(sort <<<"$imports")" >"$work/src/core/plugin/zplugin.go"
  (cd "$work/src" && _kn_go 0 "$out/coredns" . "" "-s -w") || rc=1
  rm -rf "$work"
  ((rc == 0)) || return 1
  _kn_check "CoreDNS-$COREDNS_VERSION" "$out/coredns" -version || return 1
  # -plugins prints one plugin name per line
  local plugins
  plugins=$("$out/coredns" -plugins) || return 1
  grep -qx kubernetes <<<"$plugins" || { _k8s_log "coredns -plugins: no kubernetes"; return 1; }
  if grep -qx route53 <<<"$plugins"; then _k8s_log "coredns -plugins: route53 was to be left out"; return 1; fi
  _k8s_log "ok: coredns -plugins: kubernetes, no route53 ($(wc -l <<<"$plugins") plugins)"
}

# local-path-provisioner's scripts/build: CGO_ENABLED=0, main.VERSION.
_kn_local_path() {
  _kn_go 0 "$1/local-path-provisioner" . "" "-s -w -X main.VERSION=v$LOCAL_PATH_VERSION" || return 1
  _kn_check "v$LOCAL_PATH_VERSION" "$1/local-path-provisioner" --version
}

# build/pause/Makefile: $(CC) -Os -Wall -Werror -static -DVERSION=v$(TAG)-$(REV),
# then strip; REV (git describe --contains) of the release tag is the tag.
_kn_pause() {
  local tag
  tag=$(sed -n 's/^TAG ?= *\([^ ]*\).*/\1/p' build/pause/Makefile)
  [[ $tag == "$PAUSE_VERSION" ]] ||
    { _k8s_log "build/pause/Makefile of k8s.io/kubernetes v$K8S_VERSION says TAG $tag, not $PAUSE_VERSION: set PAUSE_VERSION"; return 1; }
  if ! command -v gcc >/dev/null || [[ ! -f $(gcc -print-file-name=libc.a) ]]; then
    _k8s_log "pause is a static C program: gcc and libc6-dev are required (apt-get install -y gcc libc6-dev)"
    return 1
  fi
  _k8s_log "gcc build/pause/linux/pause.c (static)"
  gcc -Os -Wall -Werror -static "-DVERSION=v$PAUSE_VERSION-v$K8S_VERSION" -o "$1/pause" build/pause/linux/pause.c >&2 &&
    strip "$1/pause" || return 1
  if readelf -l "$1/pause" | grep -q 'Requesting program interpreter'; then
    _k8s_log "pause is not static"; return 1
  fi
  _kn_check "pause.c v$PAUSE_VERSION" "$1/pause" -v
}

# _kn_kube <program> <expected> <version args...>: k8s.sh's build of
# k8s.io/kubernetes/cmd/<program>, its version checked when freshly built.
_kn_kube() {
  local prog=$1 want=$2 cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin} path fresh=""
  shift 2
  [[ -x $cache/$prog-$K8S_VERSION/$prog ]] || fresh=1
  path=$(_k8s_build_kube "$prog") || return 1
  if [[ -n $fresh ]] && ! _kn_check "$want" "$path" "$@"; then
    rm -rf "${path%/*}"
    return 1
  fi
  echo "$path"
}

build_kubelet() { _kn_kube kubelet "Kubernetes v$K8S_VERSION" --version; }
build_kubeadm() { _kn_kube kubeadm "v$K8S_VERSION" version -o short; }
build_kubectl() { _kn_kube kubectl "Client Version: v$K8S_VERSION" version --client; }
build_kube_proxy() { _kn_kube kube-proxy "Kubernetes v$K8S_VERSION" --version; }
# _kn_bin <file> <_kn_build arguments...>: prints <dir>/<file>.
_kn_bin() {
  local file=$1 dir
  shift
  dir=$(_kn_build "$@") || return 1
  echo "$dir/$file"
}
build_containerd() { _kn_build containerd "$CONTAINERD_VERSION" "$containerd_module@v$CONTAINERD_VERSION" _kn_containerd; }
build_runc() { _kn_bin runc runc "$RUNC_VERSION" "$runc_module@v$RUNC_VERSION" _kn_runc; }
build_crictl() { _kn_bin crictl crictl "$CRICTL_VERSION" "$crictl_module@v$CRICTL_VERSION" _kn_crictl; }
build_cni_plugins() { _kn_build cni-plugins "$CNI_PLUGINS_VERSION" "$cni_plugins_module@v$CNI_PLUGINS_VERSION" _kn_cni_plugins; }
# The cache's name says the plugins were left out (a full build is another).
build_coredns() { _kn_bin coredns coredns "$COREDNS_VERSION-lean" "$coredns_module@v$COREDNS_VERSION" _kn_coredns; }
build_local_path_provisioner() {
  _kn_bin local-path-provisioner local-path-provisioner "$LOCAL_PATH_VERSION" "$local_path_module@v$LOCAL_PATH_VERSION" _kn_local_path
}
build_pause() { _kn_bin pause pause "$PAUSE_VERSION" "$pause_module@v$K8S_VERSION" _kn_pause; }

# NAME=path for every program, built one after another (the Kubernetes ones
# first: they share the Go build cache of k8s.sh's kube-apiserver build).
kind_node_all() {
  local v path
  for v in KUBELET_BIN:build_kubelet KUBEADM_BIN:build_kubeadm KUBECTL_BIN:build_kubectl \
    KUBE_PROXY_BIN:build_kube_proxy KUBE_APISERVER_BIN:build_kube_apiserver \
    KUBE_CONTROLLER_MANAGER_BIN:build_kube_controller_manager KUBE_SCHEDULER_BIN:build_kube_scheduler \
    ETCD_BIN:build_etcd CONTAINERD_DIR:build_containerd RUNC_BIN:build_runc CRICTL_BIN:build_crictl \
    CNI_PLUGINS_DIR:build_cni_plugins COREDNS_BIN:build_coredns \
    LOCAL_PATH_PROVISIONER_BIN:build_local_path_provisioner PAUSE_BIN:build_pause; do
    path=$("${v#*:}")
    printf '%s=%q\n' "${v%%:*}" "$path"
  done
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case "${1:-}" in
    kubelet) build_kubelet ;;
    kubeadm) build_kubeadm ;;
    kubectl) build_kubectl ;;
    kube-proxy) build_kube_proxy ;;
    kube-apiserver) build_kube_apiserver ;;
    kube-controller-manager) build_kube_controller_manager ;;
    kube-scheduler) build_kube_scheduler ;;
    etcd) build_etcd ;;
    containerd) build_containerd ;;
    runc) build_runc ;;
    crictl) build_crictl ;;
    cni-plugins) build_cni_plugins ;;
    coredns) build_coredns ;;
    local-path-provisioner) build_local_path_provisioner ;;
    pause) build_pause ;;
    all) kind_node_all ;;
    *) echo "usage: $0 kubelet|kubeadm|kubectl|kube-proxy|kube-apiserver|kube-controller-manager|kube-scheduler|etcd|containerd|runc|crictl|cni-plugins|coredns|local-path-provisioner|pause|all" >&2
      exit 2 ;;
  esac
  # bash parses this whole block before running it; exiting here means an edit
  # of this file during a long build cannot make bash read on at a stale offset.
  exit 0
fi
