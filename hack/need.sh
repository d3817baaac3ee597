#!/usr/bin/env bash
# hack/need.sh <target> <tool>...: stops a make target at once, before it
# changes anything, when a tool it runs is not on PATH, naming each missing
# tool and where to get it.
set -u
target=$1
shift
missing=0
for tool in "$@"; do
  command -v "$tool" >/dev/null 2>&1 && continue
  case $tool in
    docker) how="a container engine: https://docs.docker.com/get-docker/" ;;
    kind) how="https://kind.sigs.k8s.io/docs/user/quick-start/#installation (go install sigs.k8s.io/kind@latest)" ;;
    helm) how="Helm 3.14+ or 4: https://helm.sh/docs/intro/install/" ;;
    kubectl) how="https://kubernetes.io/docs/tasks/tools/" ;;
    cargo) how="Rust: https://rustup.rs" ;;
    go) how="Go 1.26: https://go.dev/dl/ (or apt-get install golang-go)" ;;
    base64) how="coreutils" ;;
    *) how="install it" ;;
  esac
  echo "make $target: $tool is required but not on PATH; $how" >&2
  missing=1
done
exit "$missing"
