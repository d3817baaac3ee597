#!/usr/bin/env bash
# hack/need.sh <target> <tool>...: stops a make target at once, before it
# changes anything, when a tool it runs is missing, naming each missing tool
# and where to get it. docker, kind, helm and kubectl are got instead where
# missing (a Docker engine where none answers; the others built from source
# once), one line each: hack/tools.sh.
set -u
target=$1
shift
missing=0
get=()
for tool in "$@"; do
  case $tool in
    docker)
      docker info >/dev/null 2>&1 || get+=(docker)
      continue ;;
    kind | helm | kubectl)
      command -v "$tool" >/dev/null 2>&1 || get+=("$tool")
      continue ;;
  esac
  command -v "$tool" >/dev/null 2>&1 && continue
  case $tool in
    cargo) how="Rust: https://rustup.rs" ;;
    go) how="Go 1.26: https://go.dev/dl/ (or apt-get install golang-go)" ;;
    base64) how="coreutils" ;;
    *) how="install it" ;;
  esac
  echo "make $target: $tool is required but not on PATH; $how" >&2
  missing=1
done
((missing)) && exit 1
((${#get[@]} == 0)) || bash "${BASH_SOURCE[0]%/*}/tools.sh" "$target" "${get[@]}"
