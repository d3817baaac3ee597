#!/usr/bin/env bash
# hack/image-check.sh IMAGE MAX_MB: fails unless IMAGE runs as uid 65532
# (the restricted Pod Security Standard's non-root, the uid the chart and the
# operator's Deployments set) and is at most MAX_MB megabytes. `make images`
# runs it after each build, so a base image that grew a shell-sized userland
# or lost its USER line is caught before kind loads it.
set -euo pipefail
image=${1:?usage: $0 IMAGE MAX_MB} max=${2:?usage: $0 IMAGE MAX_MB}
user=$(docker image inspect -f '{{.Config.User}}' "$image")
bytes=$(docker image inspect -f '{{.Size}}' "$image")
mb=$((bytes / 1000000))
fail=0
if [[ ${user%%:*} != 65532 ]]; then
  echo "image-check: $image runs as '${user:-root}', want 65532:65532" >&2
  fail=1
fi
if ((mb > max)); then
  echo "image-check: $image is $mb MB, more than $max MB" >&2
  fail=1
fi
((fail == 0)) && echo "image-check: $image: user $user, $mb MB (at most $max)"
exit "$fail"
