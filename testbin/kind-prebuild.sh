#!/usr/bin/env bash
# testbin/kind-prebuild.sh: builds ahead what the kind tier's `make up` would
# build itself and that needs no cluster: kind, Helm 4 and kubectl (what
# hack/tools.sh links), and where no registry answers the base images, the
# node image (with the node's Go programs) and the stack's programs and
# images (hack/airgap/); and both release images (`make image-builds`). Each
# is cached (the testbin cache, docker's images and layers), so `make up`
# finds it built and does the same steps, in seconds. Two queues side by
# side after the base images (which both use): the Go programs, and the
# release images (cargo in a container). .ci/run starts this beside the
# workspace's build: none of the three keeps both cores busy alone
# (debootstrap and apt wait on the network, a Go link or rustc's last crate
# uses one core). Helm 3, used at the kind tier's end, is built there, in the
# background (testbin/kind-e2e.sh).
# Needs the engine started (make engine) and root.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/steps.sh
airgap=${STOREOPS_AIRGAP:-$(bash hack/airgap/detect.sh)}
export STOREOPS_AIRGAP=$airgap

if [[ $airgap == true ]]; then step prebuild-base-images bash hack/airgap/base-images.sh; fi
programs() {
  step prebuild-kind bash testbin/k8s.sh kind >/dev/null
  step prebuild-helm bash testbin/k8s.sh helm >/dev/null
  step prebuild-kubectl bash testbin/kind-node.sh kubectl >/dev/null
  if [[ $airgap == true ]]; then
    step prebuild-node-image bash hack/airgap/node-image.sh
    step prebuild-stack-images bash hack/airgap/stack-images.sh >/dev/null
  fi
}
programs &
go=$!
rc=0
step prebuild-images make --no-print-directory image-builds || rc=$?
wait "$go" || rc=$?
exit "$rc"
