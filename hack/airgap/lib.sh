# shellcheck shell=bash
# hack/airgap/lib.sh: what base-images.sh and node-image.sh share (sourced).
# Images made here carry the label storeops.content (a hash of what makes
# them); `ensure` keeps an image whose label is current, else loads it from
# its tar file in $cache, else builds it and saves it there.
cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin}/images
# The Debian archive the host's apt uses (deb822 or one-line sources), and
# its security archive where it names one (storeops/debian's apt sources;
# DEBIAN_SECURITY_MIRROR overrides, empty for none).
apt_uris() {
  cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -oE '^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?[a-z]+://[^[:space:]]+' |
    grep -oE '[a-z]+://[^[:space:]]+'
}
mirror=${DEBIAN_MIRROR:-$(apt_uris | grep -v security | head -n 1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}
# shellcheck disable=SC2034 # base-images.sh uses it
security_mirror=${DEBIAN_SECURITY_MIRROR-$(apt_uris | grep security | head -n 1 || true)}
die() { echo "${0##*/}: $*" >&2; exit 1; }

# What a builder leaves behind when it fails: its work directory (after
# unmounting anything a failed debootstrap left mounted in it, so that rm
# never walks into the host's /proc or /sys) and the container it ran.
work=
container=
cleanup() {
  if [[ -n $container ]]; then docker rm -f "$container" >/dev/null 2>&1 || true; fi
  if [[ -n $work && -d $work ]]; then
    awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount -l
    rm -rf "$work"
  fi
  container=''
  work=''
}
trap cleanup EXIT

# Each script sets `versions` (its Debian packages' versions in the host's
# apt lists) before using these.
versions=
# content BUILDER HASH-INPUT...: the label of an image made by this builder
# function (its text) from these packages and inputs.
content() { { declare -f "$1"; printf '%s\n' "$@" "$versions"; } | sha256sum | cut -c1-16; }

# ensure [--no-save] IMAGE BUILDER HASH-INPUT...: the image with its current
# label, from docker, else from the cache file, else built by
# `BUILDER WORK IMAGE LABEL HASH-INPUT...` (then saved there, unless --no-save).
ensure() {
  local save=1 image builder start=$SECONDS label tar
  if [[ $1 == --no-save ]]; then save= && shift; fi
  image=$1 builder=$2
  shift 2
  label=$(content "$builder" "$@")
  tar=$cache/${image//[\/:]/_}-$label.tar
  if [[ $(docker image inspect -f '{{index .Config.Labels "storeops.content"}}' "$image" 2>/dev/null) == "$label" ]]; then
    echo "$image: present ($label)"
    return
  fi
  if [[ -f $tar ]]; then
    docker rmi "$image" >/dev/null 2>&1 || true
    docker load -q -i "$tar" >/dev/null
    echo "$image: loaded from $tar in $((SECONDS - start)) s"
    return
  fi
  # The image it replaces would stay behind, untagged.
  docker rmi "$image" >/dev/null 2>&1 || true
  echo "$image: building ($label)"
  work=$(mktemp -d)
  "$builder" "$work" "$image" "$label" "$@"
  cleanup
  if [[ -z $save ]]; then
    echo "$image: built in $((SECONDS - start)) s"
    return
  fi
  mkdir -p "$cache"
  rm -f "$cache/${image//[\/:]/_}"-*.tar
  docker save -o "$tar.tmp" "$image" && mv "$tar.tmp" "$tar"
  echo "$image: built in $((SECONDS - start)) s, saved to $tar ($(du -h "$tar" | cut -f1))"
}
