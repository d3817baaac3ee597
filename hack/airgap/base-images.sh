#!/usr/bin/env bash
# hack/airgap/base-images.sh: the Dockerfiles' base images, made on this
# machine from Debian packages because no registry can be reached (README.md):
#   storeops/runtime-base:bookworm  distroless-like: libc6, libgcc-s1,
#                                   ca-certificates, user nonroot 65532, no shell
#   storeops/rust-build:bookworm    Debian bookworm (debootstrap minbase), gcc,
#                                   libc6-dev, pkg-config, the host's Rust toolchain
# Each image carries a content label (hash of the function that makes it, its
# packages' versions, the toolchain's version) and is skipped when it exists with
# that label; a built image is saved as a tar file in $cache and loaded from
# there when docker's state is gone. Needs root (debootstrap, owners in the rootfs).
set -euo pipefail
cache=${STOREOPS_TESTBIN_DIR:-$HOME/.cache/storeops/testbin}/images
runtime_pkgs=(libc6 libgcc-s1 ca-certificates)
build_pkgs=(gcc libc6-dev pkg-config ca-certificates)
# The Debian archive the host's apt uses (deb822 or one-line sources).
mirror=${DEBIAN_MIRROR:-$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
  grep -oE '^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?[a-z]+://[^[:space:]]+' |
  grep -oE '[a-z]+://[^[:space:]]+' | grep -v security | head -n 1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}
die() { echo "base-images.sh: $*" >&2; exit 1; }
work=
trap 'rm -rf "$work"' EXIT

[[ $(id -u) == 0 ]] || die "run as root: sudo bash $0"
docker info >/dev/null 2>&1 || die "no docker engine answers: make engine (hack/airgap/engine.sh)"
local_cas=/usr/local/share/ca-certificates
toolchain=${RUST_TOOLCHAIN_DIR:-$(rustc --print sysroot 2>/dev/null)} || die "no rustc on PATH: https://rustup.rs"
rust_version=$("$toolchain/bin/rustc" --version | cut -d' ' -f2)

# The packages' versions in the host's apt lists (one apt-cache run: each
# parses every list).
versions=$(apt-cache show --no-all-versions "${runtime_pkgs[@]}" "${build_pkgs[@]}" | grep -E '^(Package|Version):')
# content BUILDER HASH-INPUT...: the label of an image made by this builder
# function (its text) from these packages and inputs.
content() { { declare -f "$1"; printf '%s\n' "$@" "$versions"; } | sha256sum | cut -c1-16; }

runtime_base() { # WORK IMAGE LABEL
  local work=$1 root=$1/rootfs
  # As root: apt's sandbox user _apt could not write into the private $work.
  # Stale apt lists name files the mirror no longer has: refreshed once.
  (cd "$work" && { apt-get download -qq -o APT::Sandbox::User=root "${runtime_pkgs[@]}" ||
    { apt-get update -qq && apt-get download -qq -o APT::Sandbox::User=root "${runtime_pkgs[@]}"; }; })
  mkdir -p "$root/var/lib/dpkg/status.d" "$root/etc/ssl/certs"
  for deb in "$work"/*.deb; do
    dpkg-deb -x "$deb" "$root"
    # One control file per package, where scanners look in distroless images.
    dpkg-deb -f "$deb" >"$root/var/lib/dpkg/status.d/$(dpkg-deb -f "$deb" Package)"
  done
  # ca-certificates' postinst would make the bundle; no maintainer script runs here.
  cat "$root"/usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
  # No programs (update-ca-certificates is a shell script), no docs but the copyrights.
  rm -rf "${root:?}/usr/sbin" "${root:?}/usr/bin" "${root:?}"/usr/share/{man,info,lintian,locale}
  find "$root/usr/share/doc" -type f ! -name copyright -delete
  printf '%s\n' root:x:0:0:root:/root:/sbin/nologin nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin \
    nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin >"$root/etc/passwd"
  printf '%s\n' root:x:0: nobody:x:65534: nonroot:x:65532: >"$root/etc/group"
  # Without it glibc asks DNS alone for `localhost`.
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$root/etc/nsswitch.conf"
  install -d -m 1777 "$root/tmp"
  install -d -m 0700 "$root/root"
  install -d -m 0700 -o 65532 -g 65532 "$root/home/nonroot"
  # What gcr.io/distroless/cc-debian12:nonroot sets.
  tar --numeric-owner -C "$root" -c . | docker import \
    -c 'USER 65532:65532' -c 'WORKDIR /home/nonroot' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    -c "LABEL storeops.content=$3" - "$2" >/dev/null
}

rust_build() { # WORK IMAGE LABEL
  local root=$1/rootfs
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  debootstrap --variant=minbase --include="$(IFS=,; echo "${build_pkgs[*]}")" bookworm "$root" "$mirror" >"$1/debootstrap.log" ||
    { tail -n 20 "$1/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  # The local CAs the host trusts (Debian's place for them), such as a
  # TLS-intercepting proxy's: cargo in the build stage reaches crates.io
  # through it as the host does.
  if [[ -d $local_cas ]]; then
    cp -a "$local_cas/." "$root$local_cas/"
    chroot "$root" update-ca-certificates >/dev/null 2>&1
  fi
  # The host's toolchain without rustup (the Dockerfiles only run cargo) and
  # without its 800 MB of docs; rustc finds its libraries next to itself.
  mkdir -p "$root/usr/local/rust" "$root/usr/local/cargo"
  tar -C "$toolchain" --exclude=./share/doc -c . | tar -C "$root/usr/local/rust" -x
  # Paths as in the rust image: CARGO_HOME holds the registry cache.
  tar --numeric-owner -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV CARGO_HOME=/usr/local/cargo' -c "ENV RUST_VERSION=$rust_version" \
    -c "LABEL storeops.content=$3" - "$2" >/dev/null
}

# ensure IMAGE BUILDER HASH-INPUT...: the image with its current
# label, from docker, else from the cache file, else built (then saved there).
ensure() {
  local image=$1 builder=$2 start=$SECONDS label tar
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
  "$builder" "$work" "$image" "$label"
  rm -rf "$work"
  work=
  mkdir -p "$cache"
  rm -f "$cache/${image//[\/:]/_}"-*.tar
  docker save -o "$tar.tmp" "$image" && mv "$tar.tmp" "$tar"
  echo "$image: built in $((SECONDS - start)) s, saved to $tar ($(du -h "$tar" | cut -f1))"
}

ensure storeops/runtime-base:bookworm runtime_base
ensure storeops/rust-build:bookworm rust_build "rust $rust_version" "$mirror" \
  "$(cat "$local_cas"/* 2>/dev/null | sha256sum)"
