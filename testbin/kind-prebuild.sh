#!/usr/bin/env bash
# testbin/kind-prebuild.sh: builds ahead what the kind tier's `make up` and
# its tests would build themselves and that needs no cluster: Helm 3, the kind
# node's kubectl and, where no registry answers, the base images, the node
# image (with the node's Go programs) and the stack's programs and images
# (hack/airgap/); then both release images (`make image-builds`). Each is
# cached (the testbin cache, docker's images and layers), so `make up` finds
# it built and does the same steps, in seconds. .ci/run starts this with
# both tiers, beside `make test` (whose tests often wait on programs they
# started): it takes the cycles they leave idle instead of a place on the
# kind tier's critical path. It runs at nice 19 and its containers' builds
# in a cgroup of CPU weight 2 (the share of nice 19; nice does not reach a
# container), so the tests come first.
# Needs the engine started (make engine) and root.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/steps.sh
airgap=${STOREOPS_AIRGAP:-$(bash hack/airgap/detect.sh)}
export STOREOPS_AIRGAP=$airgap

# low_cgroup: prints docker's --cgroup-parent flag for a CPU cgroup of
# weight 2 (cgroup v1 cpu.shares; v2 cpu.weight 1), or nothing where it
# cannot be made.
low_cgroup() {
  local name=storeops-low
  if [[ -d /sys/fs/cgroup/cpu && ! -f /sys/fs/cgroup/cgroup.controllers ]]; then
    mkdir -p "/sys/fs/cgroup/cpu/$name" && echo 2 >"/sys/fs/cgroup/cpu/$name/cpu.shares" || return 0
  elif [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    mkdir -p "/sys/fs/cgroup/$name" && echo 1 >"/sys/fs/cgroup/$name/cpu.weight" 2>/dev/null || return 0
  else
    return 0
  fi
  echo "--cgroup-parent=/$name"
}

step prebuild-helm3 bash testbin/k8s.sh helm3 >/dev/null
step prebuild-kubectl bash testbin/kind-node.sh kubectl >/dev/null
if [[ $airgap == true ]]; then
  step prebuild-base-images bash hack/airgap/base-images.sh
  step prebuild-node-image bash hack/airgap/node-image.sh
  step prebuild-stack-images bash hack/airgap/stack-images.sh >/dev/null
fi
step prebuild-images make --no-print-directory image-builds IMAGE_BUILD_FLAGS="$(low_cgroup)"
