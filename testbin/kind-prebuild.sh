#!/usr/bin/env bash
# testbin/kind-prebuild.sh: builds ahead what the kind tier's `make up` would
# build itself and that needs no cluster: kind, Helm 4 and kubectl (what
# hack/tools.sh links), and where no registry answers the base images, the
# node image (with the node's Go programs) and the stack's programs and
# images (hack/airgap/); both release images (`make image-builds`) and the
# e2e tests' PostgreSQL image (`make e2e-image-builds`). Each
# is cached (the testbin cache, docker's images and layers), so `make up`
# finds it built and does the same steps, in seconds. Two queues side by
# side after the base images (which both use), about equally long on 2
# cores (cold at 6ec8bb8: the programs 2045 s, the images 1419 + 698 s; with
# the stack images on the first queue, they ran alone for 698 s at 63 %):
# the Go programs and the node image; the release images (cargo in a
# container), then the stack images and PostgreSQL's. .ci/run starts this beside the
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

# The Docker client `make up` uses in the kind tier, whose PATH holds none
# (a newcomer's): Debian's, which hack/tools.sh links. The legacy builder
# keys COPY's cache on the build context as the client sends it, and
# clients of other versions send it differently (28.2 and 20.10 here): built
# with the machine's own client, the release images' workspace was compiled
# again inside `make up` (4m17s, cold at 6ec8bb8).
if [[ -x /usr/bin/docker && $(command -v docker) != /usr/bin/docker ]]; then
  mkdir -p target/prebuild-bin
  ln -sfn /usr/bin/docker target/prebuild-bin/docker
  export PATH=$PWD/target/prebuild-bin:$PATH
fi

if [[ $airgap == true ]]; then step prebuild-base-images bash hack/airgap/base-images.sh; fi
programs() {
  step prebuild-kind bash testbin/k8s.sh kind >/dev/null
  step prebuild-helm bash testbin/k8s.sh helm >/dev/null
  step prebuild-kubectl bash testbin/kind-node.sh kubectl >/dev/null
  if [[ $airgap == true ]]; then step prebuild-node-image bash hack/airgap/node-image.sh; fi
}
# (Called in `||`, where set -e does not stop it: each failure counted.)
images() {
  local rc=0
  step prebuild-images make --no-print-directory image-builds || rc=$?
  if [[ $airgap == true ]]; then step prebuild-stack-images bash hack/airgap/stack-images.sh >/dev/null || rc=$?; fi
  step prebuild-e2e-images make --no-print-directory e2e-image-builds || rc=$?
  return "$rc"
}
programs &
go=$!
rc=0
images || rc=$?
wait "$go" || rc=$?
exit "$rc"
