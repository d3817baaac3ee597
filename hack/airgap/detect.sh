#!/usr/bin/env bash
# hack/airgap/detect.sh: prints `true` when this machine must make its base
# images itself (no image registry answers), else `false`. The Makefile asks
# it once per run, only for `make images`; STOREOPS_AIRGAP=true|false on make's
# command line or in the environment skips the question.
set -u
exec 2>/dev/null # a probe: its answer only, even where its tools are missing
dockerfile=$(dirname "${BASH_SOURCE[0]}")/../../store-service/Dockerfile
# The upstream base images (the Dockerfile's defaults) are here already: an
# offline laptop that built before.
mapfile -t upstream < <(sed -n 's/^ARG \(BUILD\|RUNTIME\)_IMAGE=//p' "$dockerfile")
if docker image inspect "${upstream[@]}" >/dev/null 2>&1; then
  echo false
  exit
fi
# Without curl nothing can be told: upstream's way.
command -v curl >/dev/null || { echo false; exit; }
# Any HTTP answer (401 included) means the registry is reachable; where DNS
# or the connection fails, curl fails at once.
for registry in https://registry-1.docker.io/v2/ https://gcr.io/v2/; do
  if ! curl -s -o /dev/null --connect-timeout 3 --max-time 5 "$registry"; then
    echo true
    exit
  fi
done
echo false
