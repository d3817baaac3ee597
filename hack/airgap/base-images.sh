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
# cache, mirror, die, content, ensure (and the EXIT trap that cleans up).
# shellcheck source=hack/airgap/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runtime_pkgs=(libc6 libgcc-s1 ca-certificates)
build_pkgs=(gcc libc6-dev pkg-config ca-certificates)

[[ $(id -u) == 0 ]] || die "run as root: sudo bash $0"
docker info >/dev/null 2>&1 || die "no docker engine answers: make engine (hack/airgap/engine.sh)"
local_cas=/usr/local/share/ca-certificates
toolchain=${RUST_TOOLCHAIN_DIR:-$(rustc --print sysroot 2>/dev/null)} || die "no rustc on PATH: https://rustup.rs"
rust_version=$("$toolchain/bin/rustc" --version | cut -d' ' -f2)

# The packages' versions in the host's apt lists (one apt-cache run: each
# parses every list).
versions=$(apt-cache show --no-all-versions "${runtime_pkgs[@]}" "${build_pkgs[@]}" | grep -E '^(Package|Version):')
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

# Both by default; `base-images.sh runtime` (node-image.sh) or `build` for one.
case "${1:-all}" in runtime | build | all) ;; *) die "usage: $0 [runtime|build|all]" ;; esac
[[ ${1:-all} == build ]] || ensure storeops/runtime-base:bookworm runtime_base
[[ ${1:-all} == runtime ]] || ensure storeops/rust-build:bookworm rust_build "rust $rust_version" "$mirror" \
  "$(cat "$local_cas"/* 2>/dev/null | sha256sum)"
