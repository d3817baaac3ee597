#!/usr/bin/env bash
# hack/airgap/kind-config.sh: the kind config for a node image made by
# node-image.sh on this machine, generated from the project's kind config
# (never a second copy of it) and printed as JSON, which kind reads as YAML:
#   bash hack/airgap/kind-config.sh kind-config.yaml >target/kind-config.airgap.json
#   kind create cluster --name storeops --config target/kind-config.airgap.json
# What it adds to the config (README.md, "The kind config variant"):
# - every node's `image`: the node image (NODE_IMAGE, default node-image.sh's);
# - `networking.disableDefaultCNI: true`: kind's kindnetd is not built here;
#   the node image has its own CNI config (ptp) for the pod subnet it names;
# - a ClusterConfiguration patch: etcd's image tag, the one in the node image
#   (kubeadm would ask for its own default version);
# - where the host is cgroup v1, a KubeletConfiguration patch
#   `failCgroupV1: false` (kubelet refuses cgroup v1 otherwise);
# - where the kernel withholds CAP_SYS_RESOURCE, containerd's
#   `restrict_oom_score_adj = true` (the CRI asks -998 for every sandbox,
#   which no process may set without that capability).
# It refuses a config this node image cannot run: more than one node (the
# ptp network is local to a node) or another pod subnet.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "kind-config.sh: $*" >&2; exit 1; }
[[ $# == 1 && -f $1 ]] || die "usage: $0 KIND-CONFIG.yaml (prints the variant as JSON)"
image=${NODE_IMAGE:-$(bash "$here/node-image.sh" --print-image)}
labels=$(docker image inspect -f '{{json .Config.Labels}}' "$image" 2>/dev/null) ||
  die "no image $image: bash hack/airgap/node-image.sh"
capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
cgroup_v1=false oom_restricted=false
[[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]] || cgroup_v1=true
(((16#$capbnd >> 24 & 1) == 1)) || oom_restricted=true
# shellcheck source=hack/airgap/pyyaml.sh
source "$here/pyyaml.sh"
need_pyyaml

IMAGE=$image LABELS=$labels CGROUP_V1=$cgroup_v1 OOM_RESTRICTED=$oom_restricted python3 - "$1" <<'EOF'
import json, os, sys, yaml

def die(msg):
    sys.exit(f"kind-config.sh: {sys.argv[1]}: {msg}")

with open(sys.argv[1]) as f:
    cfg = yaml.safe_load(f)
labels = json.loads(os.environ["LABELS"]) or {}
etcd_tag = labels.get("storeops.kind.etcd-image-tag")
pod_subnet = labels.get("storeops.kind.pod-subnet")
if not etcd_tag or not pod_subnet:
    die(f"{os.environ['IMAGE']} lacks the labels node-image.sh sets")

nodes = cfg.setdefault("nodes", [{"role": "control-plane"}])
if len(nodes) != 1:
    die(f"{len(nodes)} nodes: the node image's CNI (ptp) connects pods on one node only")
for node in nodes:
    node["image"] = os.environ["IMAGE"]

net = cfg.setdefault("networking", {})
if net.get("podSubnet", pod_subnet) != pod_subnet:
    die(f"networking.podSubnet {net['podSubnet']}: the node image's CNI config hands out {pod_subnet}")
net["disableDefaultCNI"] = True

patches = cfg.setdefault("kubeadmConfigPatches", [])
patches.append(f"kind: ClusterConfiguration\netcd:\n  local:\n    imageTag: \"{etcd_tag}\"\n")
if os.environ["CGROUP_V1"] == "true":
    patches.append("kind: KubeletConfiguration\nfailCgroupV1: false\n")
if os.environ["OOM_RESTRICTED"] == "true":
    cfg.setdefault("containerdConfigPatches", []).append(
        '[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n')

json.dump(cfg, sys.stdout, indent=2)
print()
EOF
