#!/usr/bin/env bash
# hack/tools.sh <target> <tool>...: gets each of docker, kind, helm and
# kubectl that a make target needs and this machine lacks, the way the kind
# tier does, and says so in one line each, before the work (whose output goes
# to a log, shown only when it fails); a tool already on PATH (and a Docker engine
# that answers) is the user's own and is left alone.
#   docker   no engine answers: Debian's docker.io started with what this
#            machine needs (hack/airgap/engine.sh, root); its client linked
#            when not on PATH
#   kind     built from source into the testbin cache (testbin/k8s.sh kind)
#   helm     Helm 4, the same way (testbin/k8s.sh helm)
#   kubectl  the kind node's kubectl, the same way (testbin/kind-node.sh kubectl)
# Built programs are linked into target/tools/bin (STOREOPS_TOOLS_BIN), which
# the Makefile puts last on PATH: the user's own always come first; logs go
# to target/tools/logs (STOREOPS_TOOLS_LOGS). Needs Go for the builds (once;
# then seconds). Any other tool is only checked (hack/need.sh). Exit 1,
# naming the tool, when one cannot be got.
set -uo pipefail
target=$1
shift
# (No dirname: this runs where PATH may hold little.)
repo=$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)
bin=${STOREOPS_TOOLS_BIN:-$repo/target/tools/bin}
logs=${STOREOPS_TOOLS_LOGS:-$repo/target/tools/logs}
say() { echo "make $target: $*" >&2; }

# link <tool> <path>: <bin>/<tool> -> <path>.
link() {
  [[ -d $bin ]] || mkdir -p "$bin" || return 1
  ln -sfn "$2" "$bin/$1"
}

# The Docker client: on PATH, or the one Debian's docker.io installs.
docker_client() {
  command -v docker 2>/dev/null || { [[ -x /usr/bin/docker ]] && echo /usr/bin/docker; }
}

get_docker() {
  local client on_path linked=""
  on_path=$(command -v docker 2>/dev/null)
  client=$(docker_client)
  if [[ -z $client ]] || ! "$client" info >/dev/null 2>&1; then
    [[ -n $on_path ]] || linked="; its client linked into $bin"
    say "no Docker engine answers: starting Debian's docker.io (hack/airgap/engine.sh, as make engine does; log $logs/engine.log)$linked"
    [[ -d $logs ]] || mkdir -p "$logs" || return 1
    if ! bash "$repo/hack/airgap/engine.sh" >"$logs/engine.log" 2>&1; then
      say "starting the engine failed; the end of $logs/engine.log:"
      tail -n 25 "$logs/engine.log" >&2
      return 1
    fi
    client=$(docker_client) || return 1
  fi
  [[ $client == "$on_path" ]] && return 0
  link docker "$client" || return 1
  [[ -n $linked ]] || say "docker is not on PATH: $client linked into $bin"
}

# get_built <tool> <what> <script> <argument>: the script builds the tool
# (once) and prints its path.
get_built() {
  local tool=$1 what=$2 script=$3 arg=$4 path
  command -v "$tool" >/dev/null 2>&1 && return 0
  command -v go >/dev/null 2>&1 ||
    { say "$tool is not on PATH, and building it needs Go 1.26 (https://go.dev/dl/; apt-get install golang-go)"; return 1; }
  say "$tool is not on PATH: $what from source into the testbin cache, built once ($script $arg; log $logs/$tool.log), linked into $bin"
  [[ -d $logs ]] || mkdir -p "$logs" || return 1
  if ! path=$(bash "$repo/$script" "$arg" 2>"$logs/$tool.log") || [[ ! -x $path ]]; then
    say "building $tool failed; the end of $logs/$tool.log:"
    tail -n 25 "$logs/$tool.log" >&2
    return 1
  fi
  link "$tool" "$path"
}

rc=0
for tool in "$@"; do
  case $tool in
    docker) get_docker || rc=1 ;;
    kind) get_built kind kind testbin/k8s.sh kind || rc=1 ;;
    helm) get_built helm "Helm 4" testbin/k8s.sh helm || rc=1 ;;
    kubectl) get_built kubectl "the kind node's kubectl" testbin/kind-node.sh kubectl || rc=1 ;;
    *) say "hack/tools.sh gets docker, kind, helm and kubectl, not $tool"; rc=1 ;;
  esac
done
exit "$rc"
