#!/usr/bin/env bash
# hack/airgap/engine.sh [stop]: a Docker engine where none answers (CI's VM).
# A Docker that already answers (a laptop's) is left alone. Otherwise Debian's
# docker.io is installed if dockerd is missing and dockerd is started in the
# background, with the runc wrapper as its default runtime only when the
# kernel withholds CAP_SYS_RESOURCE (see README.md). Idempotent.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log=${STOREOPS_DOCKERD_LOG:-/var/log/storeops-dockerd.log}
pidfile=/run/storeops-dockerd.pid
# Outside the repository: dockerd runs it for as long as it lives.
wrapper=/usr/local/libexec/storeops/runc-wrapper
die() { echo "engine.sh: $*" >&2; exit 1; }
# The client on PATH, else the one Debian's docker.io installs (hack/tools.sh
# runs this where docker is not on PATH).
docker() {
  local client
  client=$(type -P docker) || client=/usr/bin/docker
  [[ -x $client ]] || return 127
  "$client" "$@"
}
versions() { docker version -f 'client {{.Client.Version}} (API {{.Client.APIVersion}}), server {{.Server.Version}} (API {{.Server.APIVersion}})'; }

if [[ ${1:-} == stop ]]; then
  [[ -f $pidfile ]] || { echo "engine.sh: no dockerd started by this script"; exit 0; }
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.5; done
  echo "engine.sh: dockerd $pid stopped"
  exit 0
fi

if docker info >/dev/null 2>&1; then
  echo "engine.sh: docker answers, left as it is: $(versions)"
  exit 0
fi
[[ $(id -u) == 0 ]] || die "no docker engine answers, and starting one needs root: sudo bash $0"

if ! command -v dockerd >/dev/null || ! command -v jq >/dev/null; then
  echo "engine.sh: installing Debian's docker.io and jq"
  command -v apt-get >/dev/null || die "dockerd is missing and this is not Debian: install Docker (https://docs.docker.com/get-docker/)"
  # No init system here: keep the package from starting dockerd itself,
  # without the runtime below (policy-rc.d is Debian's switch for that).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io jq >/dev/null
fi

if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "engine.sh: dockerd $(cat "$pidfile") is running; waiting for it to answer"
else
  args=(--pidfile "$pidfile")
  capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  if (((16#$capbnd >> 24 & 1) == 0)); then
    # CAP_SYS_RESOURCE (bit 24) is not in our bounding set: privileged
    # containers need the wrapper (README.md).
    install -D -m 0755 "$here/runc-wrapper" "$wrapper"
    args+=(--add-runtime "storeops-runc=$wrapper" --default-runtime storeops-runc)
    echo "engine.sh: CAP_SYS_RESOURCE is missing from CapBnd ($capbnd): default runtime $wrapper"
  fi
  echo "engine.sh: starting dockerd ${args[*]} (log: $log)"
  # Its own session: a Ctrl-C in make, or the end of a CI step, does not stop
  # it. And the system's PATH, not the caller's: dockerd looks its shims up
  # on PATH for as long as it lives, and the kind tier's PATH is a directory
  # of links in the clone (a dockerd started there, its clone deleted, failed
  # every build: "fork/exec .../bare-path/containerd-shim-runc-v2: no such
  # file or directory").
  setsid env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    dockerd "${args[@]}" >>"$log" 2>&1 </dev/null &
fi

for _ in $(seq 60); do
  if docker info >/dev/null 2>&1; then
    echo "engine.sh: docker answers: $(versions), default runtime $(docker info -f '{{.DefaultRuntime}}')"
    exit 0
  fi
  sleep 1
done
tail -n 20 "$log" >&2 || true
die "dockerd did not answer within 60 s; its log: $log"
