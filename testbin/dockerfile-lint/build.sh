#!/usr/bin/env bash
# Builds dockerfile-lint once into the testbin cache and prints its path: the
# checks of `docker build --check` (BuildKit's own Dockerfile linter,
# github.com/moby/buildkit, pinned by src/go.sum) without a container engine.
#   bash testbin/dockerfile-lint/build.sh   -> prints the binary's path
# Cache: ${STOREOPS_TESTBIN_DIR:-~/.cache/storeops/testbin}/dockerfile-lint-<buildkit>-<sources hash>/
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin}
buildkit=v0.34.2 # must match src/go.mod

log() { echo "dockerfile-lint: $*" >&2; }
work=""
trap '[[ -z $work ]] || rm -rf "$work"' EXIT

sum=$(cd "$here/src" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-8)
dir="$cache/dockerfile-lint-${buildkit#v}-$sum"
if [[ ! -x $dir/dockerfile-lint ]]; then
  command -v go >/dev/null || { log "go is required"; exit 1; }
  grep -q "github.com/moby/buildkit $buildkit\$" "$here/src/go.mod" ||
    { log "src/go.mod does not pin github.com/moby/buildkit $buildkit"; exit 1; }
  log "building dockerfile-lint (BuildKit $buildkit, about a minute, once)"
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.dockerfile-lint-build.XXXXXX")
  cp -R "$here/src" "$work/src"
  (
    cd "$work/src"
    export GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=${GOTOOLCHAIN:-local} CGO_ENABLED=0
    go build -trimpath -ldflags="-s -w" -o "$work/out/dockerfile-lint" . >&2
  )
  # Atomic: whole directory renamed into place; a concurrent build that won keeps its own.
  mv -T "$work/out" "$dir" 2>/dev/null || [[ -x $dir/dockerfile-lint ]]
fi
echo "$dir/dockerfile-lint"
