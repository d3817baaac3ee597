#!/usr/bin/env bash
# hack/airgap/node-image.sh: a kind node image for Kubernetes $K8S_VERSION,
# made on this machine without any registry (README.md, "The kind node image"):
#   storeops/kind-base:bookworm        kind's base image: Debian bookworm
#                                      (debootstrap minbase) with kind's package
#                                      list and images/base/files, containerd,
#                                      runc, crictl, CNI plugins, a ptp CNI config
#   storeops/kube-proxy-base:bookworm  bookworm minbase with iptables, nftables,
#                                      conntrack (kube-proxy's image base)
#   storeops/busybox:bookworm          Debian's busybox-static in an empty image
#                                      (local-path's helper; a tool pod)
#   registry.k8s.io/...                the images kubeadm asks for, each from
#                                      storeops/runtime-base:bookworm or scratch
#                                      with the program built by testbin/kind-node.sh
#   storeops/local-path-provisioner    the default StorageClass's provisioner
#   storeops/kind-node:v$K8S_VERSION   the base with kubeadm, kubelet, kubectl
#                                      and all the images above in its containerd
# Each image carries the label storeops.content (hash of the function that
# makes it and of everything it is made from). The node image, the kind base,
# kube-proxy's base and busybox are saved as tar files in
# ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/images and loaded from
# there when docker's state is gone; the others take seconds to remake.
# A present node image with the current label is all a warm run checks.
# Needs root (debootstrap), a docker engine (make engine) and Go (the programs
# are built from source the first time: testbin/kind-node.sh).
# Usage: bash hack/airgap/node-image.sh [--print-image]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# cache, mirror, die, content, ensure, cleanup.
# shellcheck source=hack/airgap/lib.sh
source "$here/lib.sh"
# K8S_VERSION, ETCD_VERSION, KIND_VERSION, CONTAINERD_VERSION, ..., the
# build_* functions (each prints a path, building once) and k8s.sh's
# _k8s_download (a module's directory in the module cache).
# shellcheck source=testbin/kind-node.sh
source "$repo/testbin/kind-node.sh"

NODE_IMAGE=${NODE_IMAGE:-storeops/kind-node:v$K8S_VERSION}
if [[ ${1:-} == --print-image ]]; then echo "$NODE_IMAGE" && exit 0; fi
[[ $# == 0 ]] || die "usage: $0 [--print-image]"

BASE_IMAGE=storeops/kind-base:bookworm
PROXY_BASE_IMAGE=storeops/kube-proxy-base:bookworm
BUSYBOX_IMAGE=storeops/busybox:bookworm
RUNTIME_IMAGE=storeops/runtime-base:bookworm
# kind's default podSubnet: the node's CNI config hands out pod addresses from
# it (kind-config.sh refuses a config that sets another one).
POD_SUBNET=10.244.0.0/16
ETCD_TAG=$ETCD_VERSION-0
# The names kubeadm $K8S_VERSION asks for (checked against `kubeadm config
# images list` when the node image is made), but etcd: kubeadm asks for its own
# default version, and the kind config names ours (kind-config.sh).
kube_image() { echo "registry.k8s.io/$1:v$K8S_VERSION"; }
PAUSE=registry.k8s.io/pause:$PAUSE_VERSION
ETCD=registry.k8s.io/etcd:$ETCD_TAG
COREDNS=registry.k8s.io/coredns/coredns:v$COREDNS_VERSION
LOCAL_PATH=storeops/local-path-provisioner:v$LOCAL_PATH_VERSION

# kind's apt list (images/base/Dockerfile) without fuse-overlayfs (rootless
# only), nfs-common and open-iscsi (network storage, not used here).
node_pkgs=(systemd conntrack iptables nftables iproute2 ethtool util-linux mount kmod libseccomp2 pigz
  e2fsprogs bash ca-certificates curl jq procps)
proxy_pkgs=(iptables nftables conntrack)
busybox_pkgs=(busybox-static)

[[ $(id -u) == 0 ]] || die "run as root: sudo bash $0"
docker info >/dev/null 2>&1 || die "no docker engine answers: make engine (hack/airgap/engine.sh)"
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
command -v setcap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcap2-bin >/dev/null
versions=$(apt-cache show --no-all-versions "${node_pkgs[@]}" "${proxy_pkgs[@]}" "${busybox_pkgs[@]}" |
  grep -E '^(Package|Version):')

# The images' base (13 MB, distroless-like) from base-images.sh.
bash "$here/base-images.sh" runtime
label_of() { docker image inspect -f '{{index .Config.Labels "storeops.content"}}' "$1"; }

# The programs, built once from the Go module proxy into the testbin cache.
start=$SECONDS
KUBELET=$(build_kubelet)
KUBEADM=$(build_kubeadm)
KUBECTL=$(build_kubectl)
KUBE_PROXY=$(build_kube_proxy)
KUBE_APISERVER=$(build_kube_apiserver)
KUBE_CONTROLLER_MANAGER=$(build_kube_controller_manager)
KUBE_SCHEDULER=$(build_kube_scheduler)
ETCD_BIN=$(build_etcd)
CONTAINERD_DIR=$(build_containerd)
RUNC=$(build_runc)
CRICTL=$(build_crictl)
CNI_DIR=$(build_cni_plugins)
COREDNS_BIN=$(build_coredns)
LOCAL_PATH_BIN=$(build_local_path_provisioner)
PAUSE_BIN=$(build_pause)
KIND_SRC=$(_k8s_download "sigs.k8s.io/kind@v$KIND_VERSION")
echo "programs: ready in $((SECONDS - start)) s"
sha() { sha256sum "$@" | cut -c1-64; }
# The classic builder (it takes a local FROM image without pulling), quiet
# but for errors.
docker_build() {
  local out rc=0
  out=$(DOCKER_BUILDKIT=0 docker build -q "$@" 2>&1 >/dev/null) || rc=$?
  grep -vE '^(DEPRECATED: The legacy builder|[[:space:]]+BuildKit is currently disabled|[[:space:]]+environment-variable|$)' \
    <<<"$out" >&2 || true
  return "$rc"
}

# --- kind's base image -------------------------------------------------------

# The node's CNI network (kindnetd, kind's default CNI, is not on the module
# proxy; the kind config sets disableDefaultCNI): a veth per pod (ptp) with an
# address from the pod subnet (host-local), masqueraded when it leaves the
# subnet, and hostPort mappings (portmap). Pods reach each other through the
# node's routes: one node only. The address leases live in /run (a tmpfs in a
# kind node), as kindnetd's do: a restarted node starts with none.
cni_config() {
  cat <<EOF
{
  "cniVersion": "1.0.0",
  "name": "storeops-ptp",
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": true,
      "mtu": 1500,
      "ipam": {
        "type": "host-local",
        "dataDir": "/run/cni-ipam-state",
        "ranges": [[{ "subnet": "$POD_SUBNET" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
}

kind_base() { # WORK IMAGE LABEL HASH-INPUT...
  local root=$1/rootfs files=$KIND_SRC/images/base/files f mode m
  debootstrap --variant=minbase --include="$(IFS=,; echo "${node_pkgs[*]}")" bookworm "$root" "$mirror" \
    >"$1/debootstrap.log" 2>&1 || { tail -n 20 "$1/debootstrap.log" >&2; die "debootstrap failed"; }
  # kind's files, where its Dockerfile's COPY lines put them: programs
  # (/usr/local/bin, /kind/bin) 0755, everything else 0644.
  while IFS= read -r f; do
    mode=0644
    [[ $f == usr/local/bin/* || $f == kind/bin/* ]] && mode=0755
    install -D -m "$mode" "$files/$f" "$root/$f"
  done < <(cd "$files" && find . -type f -printf '%P\n')
  # What its RUN lines do: no services but the node's (no getty, udev, apt
  # timers, tmpfiles setup); journald does not read the kernel log; systemd
  # is init; kubelet, containerd and undo-mount-hacks enabled; binfmt masked
  # (it would register handlers kernel-wide).
  find "$root/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
  rm -f "$root"/lib/systemd/system/multi-user.target.wants/* "$root"/etc/systemd/system/*.wants/* \
    "$root"/lib/systemd/system/local-fs.target.wants/* "$root"/lib/systemd/system/sockets.target.wants/*udev* \
    "$root"/lib/systemd/system/sockets.target.wants/*initctl* "$root"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"$root/etc/systemd/journald.conf"
  ln -sf /usr/lib/systemd/systemd "$root/sbin/init"
  chroot "$root" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
  chroot "$root" systemctl mask systemd-binfmt.service >/dev/null 2>&1
  mkdir -p "$root/etc/kubernetes/manifests"
  # clean-install's cleanup, keeping the packages' copyright files.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/debconf/*-old "$root"/var/lib/apt/lists/* \
    "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/* "$root"/usr/share/{doc-base,man,info,locale}/*
  find "$root/usr/share/doc" -type f ! -name copyright -delete
  # The programs of kind's build stages, built by testbin/kind-node.sh, and
  # their licences (kind saves them with go-licenses; here the modules' own).
  install -m 0755 "$CONTAINERD_DIR/containerd" "$CONTAINERD_DIR/ctr" "$CONTAINERD_DIR/containerd-shim-runc-v2" \
    "$CRICTL" "$root/usr/local/bin/"
  install -D -m 0755 "$RUNC" "$root/usr/local/sbin/runc"
  install -d "$root/opt/cni/bin"
  install -m 0755 "$CNI_DIR/host-local" "$CNI_DIR/loopback" "$CNI_DIR/ptp" "$CNI_DIR/portmap" "$root/opt/cni/bin/"
  for m in "$containerd_module@v$CONTAINERD_VERSION" "$runc_module@v$RUNC_VERSION" \
    "$crictl_module@v$CRICTL_VERSION" "$cni_plugins_module@v$CNI_PLUGINS_VERSION"; do
    f=$(_k8s_download "$m")
    install -D -m 0644 "$f/LICENSE" "$root/LICENSES/${m//\//_}.LICENSE"
    [[ ! -f $f/NOTICE ]] || install -m 0644 "$f/NOTICE" "$root/LICENSES/${m//\//_}.NOTICE"
  done
  chroot "$root" containerd --version >&2 || die "containerd does not run in the base image"
  chroot "$root" runc --version >&2 || die "runc does not run in the base image"
  # containerd's default OCI spec with kind's createContainer hook and without
  # rlimits (the CRI's base_runtime_spec, as kind's Dockerfile makes it).
  chroot "$root" sh -c 'ctr oci spec | jq ".hooks.createContainer += [{\"path\": \"/kind/bin/mount-product-files.sh\"}] | del(.process.rlimits)"' \
    >"$root/etc/containerd/cri-base.json"
  jq -e '.hooks.createContainer[0].path' "$root/etc/containerd/cri-base.json" >/dev/null || die "no cri-base.json"
  # One pause image: the one kubeadm $K8S_VERSION names (kind's config names 3.10).
  sed -i "s|^\([[:space:]]*sandbox_image = \).*|\1\"$PAUSE\"|" "$root/etc/containerd/config.toml"
  grep -q "sandbox_image = \"$PAUSE\"" "$root/etc/containerd/config.toml" || die "sandbox_image not set"
  install -d "$root/etc/cni/net.d"
  cni_config >"$root/etc/cni/net.d/10-storeops-ptp.conflist"
  # kind's final stage: one layer, systemd told it runs in a container and
  # stopped by SIGRTMIN+3 (which `docker import` cannot set: a build without
  # a layer adds it).
  tar --numeric-owner --xattrs --xattrs-include='security.capability' -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'ENV container=docker' \
    -c 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
    -c "LABEL storeops.content=$3" - "$2" >/dev/null
  printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$2" | docker_build -t "$2" -
}

# --- kube-proxy's base, busybox ----------------------------------------------

# kube-proxy runs iptables-save/-restore (and nft in nftables mode). Debian
# ships both iptables back ends; like upstream's iptables-wrapper, each
# iptables command here runs the one the node uses: the one that holds
# kubelet's hint chain, else the one with more rules (as kind's entrypoint
# decides for the node itself).
iptables_wrapper() {
  cat <<'EOF'
#!/bin/bash
# storeops: runs the legacy or the nft variant of the iptables command it is
# called as, whichever the node's rules are in; decided once per container.
set -eu
state=/run/storeops-iptables-mode
if [[ -s $state ]]; then
  mode=$(<"$state")
else
  count() { { timeout 5 "iptables-$1-save" || true; timeout 5 "ip6tables-$1-save" || true; } 2>/dev/null | grep -c "$2" || true; }
  if (($(count nft '^:KUBE-IPTABLES-HINT') > 0)); then mode=nft
  elif (($(count legacy '^:KUBE-IPTABLES-HINT') > 0)); then mode=legacy
  elif (($(count legacy '^-') > $(count nft '^-'))); then mode=legacy
  else mode=nft; fi
  echo "$mode" >"$state" 2>/dev/null || true
fi
name=${0##*/} prefix=${0##*/}
prefix=${prefix%%-*}
exec "/usr/sbin/$prefix-$mode${name#"$prefix"}" "$@"
EOF
}

kube_proxy_base() { # WORK IMAGE LABEL HASH-INPUT...
  local root=$1/rootfs n
  debootstrap --variant=minbase --include="$(IFS=,; echo "${proxy_pkgs[*]}")" bookworm "$root" "$mirror" \
    >"$1/debootstrap.log" 2>&1 || { tail -n 20 "$1/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/* \
    "$root"/usr/share/{doc-base,man,info,locale}/*
  find "$root/usr/share/doc" -type f ! -name copyright -delete
  iptables_wrapper >"$root/usr/sbin/iptables-wrapper"
  chmod 0755 "$root/usr/sbin/iptables-wrapper"
  for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    [[ -x $root/usr/sbin/${n%%-*}-nft${n#"${n%%-*}"} ]] || die "no ${n%%-*}-nft${n#"${n%%-*}"} in bookworm's iptables"
    ln -sf iptables-wrapper "$root/usr/sbin/$n"
  done
  tar --numeric-owner -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c "LABEL storeops.content=$3" - "$2" >/dev/null
}

busybox() { # WORK IMAGE LABEL HASH-INPUT...
  local root=$1/rootfs a
  (cd "$1" && { apt-get download -qq -o APT::Sandbox::User=root "${busybox_pkgs[@]}" ||
    { apt-get update -qq && apt-get download -qq -o APT::Sandbox::User=root "${busybox_pkgs[@]}"; }; })
  dpkg-deb -x "$1"/busybox-static_*.deb "$1/deb"
  install -D -m 0755 "$1/deb/bin/busybox" "$root/bin/busybox"
  install -D -m 0644 "$1/deb/usr/share/doc/busybox-static/copyright" "$root/usr/share/doc/busybox-static/copyright"
  for a in $("$root/bin/busybox" --list); do
    [[ $a == busybox ]] || ln -s busybox "$root/bin/$a"
  done
  mkdir -p "$root/etc"
  printf '%s\n' root:x:0:0:root:/root:/bin/sh nobody:x:65534:65534:nobody:/nonexistent:/bin/false >"$root/etc/passwd"
  printf '%s\n' root:x:0: nobody:x:65534: >"$root/etc/group"
  install -d -m 1777 "$root/tmp"
  install -d -m 0700 "$root/root"
  tar --numeric-owner -C "$root" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' \
    -c "LABEL storeops.content=$3" - "$2" >/dev/null
}

# --- the component images ----------------------------------------------------

# component WORK IMAGE LABEL SPEC...: one layer of files over a base image.
# SPEC lines: "from IMAGE LABEL", "user UID:GID", "entrypoint JSON",
# "file SHA256 DEST [CAPABILITY]" (the file is ${source[SHA256]}; a file
# capability such as cap_net_bind_service=+ep is kept by the tar that ADD
# unpacks, where COPY would drop it).
component() {
  local work=$1 image=$2 label=$3 line kw a b c from="" user="" entrypoint=""
  shift 3
  mkdir -p "$work/files"
  for line in "$@"; do
    read -r kw a b c <<<"$line"
    case $kw in
      from) from=$a ;;
      user) user=$a ;;
      entrypoint) entrypoint=${line#entrypoint } ;;
      file)
        install -D -m 0755 "${source[$a]}" "$work/files$b"
        [[ -z $c ]] || setcap "$c" "$work/files$b"
        ;;
    esac
  done
  tar --numeric-owner --owner=0 --group=0 --xattrs --xattrs-include='security.capability' \
    -C "$work/files" -cf "$work/files.tar" .
  {
    echo "FROM $from"
    echo "ADD files.tar /"
    [[ -z $user ]] || echo "USER $user"
    echo "WORKDIR /"
    [[ -z $entrypoint ]] || echo "ENTRYPOINT $entrypoint"
    echo "LABEL storeops.content=$label"
  } >"$work/Dockerfile"
  rm -rf "$work/files"
  docker_build -t "$image" "$work"
}

# The specs, image by image. A file enters its image's label by its hash, not
# its path (the testbin cache may move).
declare -A spec=() source=()
add() { # IMAGE SPEC... ("file PATH DEST [CAPABILITY]")
  local image=$1 line s="" kw path rest hash
  shift
  for line in "$@"; do
    if [[ $line == "file "* ]]; then
      read -r kw path rest <<<"$line"
      hash=$(sha "$path")
      source[$hash]=$path
      line="file $hash $rest"
    fi
    s+=$line$'\n'
  done
  spec[$image]=$s
}
# Control plane: root, as kubeadm's static pods run them (keys are 0600 root).
add "$(kube_image kube-apiserver)" "from $RUNTIME_IMAGE $(label_of "$RUNTIME_IMAGE")" "user 0:0" \
  "file $KUBE_APISERVER /usr/local/bin/kube-apiserver"
add "$(kube_image kube-controller-manager)" "from $RUNTIME_IMAGE $(label_of "$RUNTIME_IMAGE")" "user 0:0" \
  "file $KUBE_CONTROLLER_MANAGER /usr/local/bin/kube-controller-manager"
add "$(kube_image kube-scheduler)" "from $RUNTIME_IMAGE $(label_of "$RUNTIME_IMAGE")" "user 0:0" \
  "file $KUBE_SCHEDULER /usr/local/bin/kube-scheduler"
add "$ETCD" "from $RUNTIME_IMAGE $(label_of "$RUNTIME_IMAGE")" "user 0:0" "file $ETCD_BIN /usr/local/bin/etcd"
# CoreDNS as upstream's image: nonroot, port 53 by a file capability.
add "$COREDNS" "from $RUNTIME_IMAGE $(label_of "$RUNTIME_IMAGE")" "user 65532:65532" 'entrypoint ["/coredns"]' \
  "file $COREDNS_BIN /coredns cap_net_bind_service=+ep"
add "$PAUSE" "from scratch -" "user 65535:65535" 'entrypoint ["/pause"]' "file $PAUSE_BIN /pause"
add "$LOCAL_PATH" "from $RUNTIME_IMAGE $(label_of "$RUNTIME_IMAGE")" 'entrypoint ["local-path-provisioner"]' \
  "file $LOCAL_PATH_BIN /usr/bin/local-path-provisioner"

# The labels of the images with their own builders, known before any is built.
kind_base_inputs=("$(cd "$KIND_SRC/images/base/files" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)"
  "$(declare -f cni_config)" "$POD_SUBNET" "$PAUSE" "$mirror"
  "$(sha "$CONTAINERD_DIR"/containerd "$CONTAINERD_DIR"/ctr "$CONTAINERD_DIR"/containerd-shim-runc-v2 "$RUNC" "$CRICTL" \
    "$CNI_DIR"/host-local "$CNI_DIR"/loopback "$CNI_DIR"/ptp "$CNI_DIR"/portmap)")
proxy_base_inputs=("$(declare -f iptables_wrapper)" "$mirror")
proxy_base_label=$(content kube_proxy_base "${proxy_base_inputs[@]}")
add "$(kube_image kube-proxy)" "from $PROXY_BASE_IMAGE $proxy_base_label" "user 0:0" \
  "file $KUBE_PROXY /usr/local/bin/kube-proxy"

# --- the node image ----------------------------------------------------------

# kind installs the default StorageClass from this file of the node image
# (/kind/manifests/default-storage.yaml): local-path-provisioner in
# local-path-storage, volumes under /var/local-path-provisioner on the node,
# busybox as its helper (it runs the setup and teardown scripts below).
storage_manifest() {
  cat <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: local-path-storage
---
apiVersion: v1
kind: ServiceAccount
metadata:
  # The provisioner's default --service-account-name: its helper pods run as it.
  name: local-path-provisioner-service-account
  namespace: local-path-storage
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: local-path-provisioner
rules:
  - apiGroups: [""]
    resources: [nodes, persistentvolumeclaims, configmaps, pods, pods/log]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [persistentvolumes]
    verbs: [get, list, watch, create, patch, update, delete]
  - apiGroups: [""]
    resources: [events]
    verbs: [create, patch]
  - apiGroups: [storage.k8s.io]
    resources: [storageclasses]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: local-path-provisioner
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: local-path-provisioner
subjects:
  - kind: ServiceAccount
    name: local-path-provisioner-service-account
    namespace: local-path-storage
---
# The helper pods it starts in its own namespace.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: local-path-provisioner
  namespace: local-path-storage
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch, create, patch, update, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: local-path-provisioner
  namespace: local-path-storage
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: local-path-provisioner
subjects:
  - kind: ServiceAccount
    name: local-path-provisioner-service-account
    namespace: local-path-storage
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-path-config
  namespace: local-path-storage
data:
  config.json: |-
    {"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["/var/local-path-provisioner"]}]}
  setup: |-
    #!/bin/sh
    set -eu
    mkdir -m 0777 -p "\$VOL_DIR"
  teardown: |-
    #!/bin/sh
    set -eu
    rm -rf "\$VOL_DIR"
  helperPod.yaml: |-
    apiVersion: v1
    kind: Pod
    metadata:
      name: helper-pod
    spec:
      priorityClassName: system-node-critical
      tolerations:
        - operator: Exists
          effect: NoSchedule
        - operator: Exists
          effect: NoExecute
      containers:
        - name: helper-pod
          image: docker.io/$BUSYBOX_IMAGE
          imagePullPolicy: IfNotPresent
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: local-path-provisioner
  namespace: local-path-storage
spec:
  replicas: 1
  selector:
    matchLabels:
      app: local-path-provisioner
  template:
    metadata:
      labels:
        app: local-path-provisioner
    spec:
      serviceAccountName: local-path-provisioner-service-account
      nodeSelector:
        kubernetes.io/os: linux
      tolerations:
        - key: node-role.kubernetes.io/control-plane
          operator: Equal
          effect: NoSchedule
      containers:
        - name: local-path-provisioner
          image: docker.io/$LOCAL_PATH
          imagePullPolicy: IfNotPresent
          command: [local-path-provisioner, --debug, start, --helper-image, docker.io/$BUSYBOX_IMAGE,
                    --config, /etc/config/config.json]
          env:
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: CONFIG_MOUNT_PATH
              value: /etc/config/
          volumeMounts:
            - name: config
              mountPath: /etc/config/
      volumes:
        - name: config
          configMap:
            name: local-path-config
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
EOF
}

# Every image the node runs, as containerd names them.
node_images() {
  printf '%s\n' "${!spec[@]}" "$BUSYBOX_IMAGE" | sed -E 's,^([^./]+/[^/]+)$,docker.io/\1,' | sort
}

# ctr in the build container, without its warning that cgroup v1 is deprecated.
node_ctr() {
  docker exec -i "$container" ctr "$@" 2> >(grep -v 'DEPRECATION: The support for cgroup v1' >&2)
}

# As kind's `build node-image` does it, with local images: the base started
# unprivileged, kubeadm, kubelet and kubectl copied in, /kind/version and the
# storage manifest written, every image imported into its containerd (not
# unpacked: containerd unpacks on first use), committed.
node_image() { # WORK IMAGE LABEL HASH-INPUT...
  local want have name pid
  # kubeadm names every image it will ask for; all but etcd must be ours.
  want=$("$KUBEADM" config images list --kubernetes-version "v$K8S_VERSION" 2>/dev/null | grep -v '/etcd:' | sort)
  have=$(node_images)
  name=$(comm -23 <(echo "$want") <(echo "$have"))
  [[ -z $name ]] || die "kubeadm v$K8S_VERSION asks for images the node would not have: $name"
  container=$(docker run -d --entrypoint sleep --security-opt seccomp=unconfined "$BASE_IMAGE" infinity)
  for name in "$KUBEADM" "$KUBELET" "$KUBECTL"; do
    docker cp "$name" "$container:/usr/bin/${name##*/}"
    docker exec "$container" sh -c "chown root:root /usr/bin/${name##*/} && chmod 0755 /usr/bin/${name##*/}"
  done
  printf 'v%s' "$K8S_VERSION" | docker exec -i "$container" sh -c 'cat >/kind/version'
  storage_manifest | docker exec -i "$container" sh -c 'mkdir -p /kind/manifests && cat >/kind/manifests/default-storage.yaml'
  pid=$(docker exec "$container" sh -c 'nohup containerd >/tmp/containerd.log 2>&1 & echo $!')
  for _ in $(seq 60); do
    docker exec "$container" ctr version >/dev/null 2>&1 && break
    sleep 1
  done
  node_ctr version >/dev/null || { docker exec "$container" cat /tmp/containerd.log >&2; die "containerd did not start"; }
  docker save "${!spec[@]}" "$BUSYBOX_IMAGE" |
    node_ctr -n k8s.io images import --no-unpack --all-platforms --label io.cri-containerd.pinned=pinned - >/dev/null
  have=$(node_ctr -n k8s.io images ls -q | sort)
  name=$(comm -23 <(node_images) <(echo "$have"))
  [[ -z $name ]] || die "not in the node's containerd after import: $name"
  # Stopped before the commit, its database closed (no init reaps it here:
  # done when it is a zombie).
  docker exec "$container" sh -c "kill $pid; while [ -e /proc/$pid ] && ! grep -q '^State:.*Z' /proc/$pid/status; do sleep 0.2; done
    rm -f /tmp/containerd.log"
  docker commit -c 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' -c 'CMD []' \
    -c "LABEL storeops.content=$3 storeops.kind.etcd-image-tag=$ETCD_TAG storeops.kind.pod-subnet=$POD_SUBNET" \
    "$container" "$2" >/dev/null
  docker rm -f "$container" >/dev/null
  container=
}

node_ready() { # LABEL: the node image is present or its tar file is
  [[ $(docker image inspect -f '{{index .Config.Labels "storeops.content"}}' "$NODE_IMAGE" 2>/dev/null) == "$1" ||
    -f $cache/${NODE_IMAGE//[\/:]/_}-$1.tar ]]
}

start=$SECONDS
base_label=$(content kind_base "${kind_base_inputs[@]}")
busybox_label=$(content busybox)
node_inputs=("$(declare -f storage_manifest node_images node_ctr)" "$BASE_IMAGE $base_label"
  "$BUSYBOX_IMAGE $busybox_label" "$(sha "$KUBEADM" "$KUBELET" "$KUBECTL")" "$ETCD_TAG" "$POD_SUBNET")
# The component images' labels, in the same order every run.
for name in $(printf '%s\n' "${!spec[@]}" | sort); do
  mapfile -t lines <<<"${spec[$name]%$'\n'}"
  node_inputs+=("$name $(content component "${lines[@]}")")
done
node_label=$(content node_image "${node_inputs[@]}")
if ! node_ready "$node_label"; then
  ensure "$BASE_IMAGE" kind_base "${kind_base_inputs[@]}"
  ensure "$PROXY_BASE_IMAGE" kube_proxy_base "${proxy_base_inputs[@]}"
  ensure "$BUSYBOX_IMAGE" busybox
  for name in "${!spec[@]}"; do
    mapfile -t lines <<<"${spec[$name]%$'\n'}"
    ensure --no-save "$name" component "${lines[@]}"
  done
fi
ensure "$NODE_IMAGE" node_image "${node_inputs[@]}"
echo "$NODE_IMAGE: ready in $((SECONDS - start)) s ($(docker image inspect -f '{{.Size}}' "$NODE_IMAGE" | numfmt --to=iec))"
