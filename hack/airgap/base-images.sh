#!/usr/bin/env bash
# hack/airgap/base-images.sh: the Dockerfiles' base images, made on this
# machine from Debian packages because no registry can be reached (README.md):
#   storeops/runtime-base:bookworm  distroless-like: libc6, libgcc-s1,
#                                   ca-certificates, user nonroot 65532, no shell
#   storeops/rust-build:bookworm    Debian bookworm (debootstrap minbase), gcc,
#                                   libc6-dev, pkg-config, the host's Rust toolchain
#   storeops/debian:bookworm        debian:bookworm-slim's stand-in: debootstrap
#                                   minbase, apt's sources on the host's mirror,
#                                   the slim image's apt and dpkg settings
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
# A few of debootstrap's minbase set whose versions stand for it in the label
# (base-files changes with every point release).
debian_pkgs=(base-files libc6 apt dpkg bash coreutils debian-archive-keyring)
kind=${1:-all}
case $kind in runtime | build | debian | all) ;; *) die "usage: $0 [runtime|build|debian|all]" ;; esac
want() { [[ $kind == all || $kind == "$1" ]]; }

[[ $(id -u) == 0 ]] || die "run as root: sudo bash $0"
docker info >/dev/null 2>&1 || die "no docker engine answers: make engine (hack/airgap/engine.sh)"
local_cas=/usr/local/share/ca-certificates
# Only the build base needs the host's Rust.
if want build; then
  toolchain=${RUST_TOOLCHAIN_DIR:-$(rustc --print sysroot 2>/dev/null)} || die "no rustc on PATH: https://rustup.rs"
  rust_version=$("$toolchain/bin/rustc" --version | cut -d' ' -f2)
fi

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

debian_base() { # WORK IMAGE LABEL
  local root=$1/rootfs
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$1/debootstrap.log" 2>&1 ||
    { tail -n 20 "$1/debootstrap.log" >&2; die "debootstrap failed"; }
  # apt's sources as debian:bookworm-slim has them (deb822), on the host's
  # mirror: bookworm, bookworm-updates and, where the host has it, security.
  rm -f "$root/etc/apt/sources.list"
  {
    printf '%s\n' 'Types: deb' "URIs: $mirror" 'Suites: bookworm bookworm-updates' 'Components: main' \
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'
    [[ -z $security_mirror ]] || printf '%s\n' '' 'Types: deb' "URIs: $security_mirror" \
      'Suites: bookworm-security' 'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'
  } >"$root/etc/apt/sources.list.d/debian.sources"
  # What debuerreotype's minimizing config writes into the upstream image: no
  # service starts from a maintainer script, dpkg without fsync, apt's
  # caches removed after each run, compressed lists, no translations.
  printf '%s\n' '#!/bin/sh' 'exit 101' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  local clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true";'
  printf '%s\n' "DPkg::Post-Invoke { $clean };" "APT::Update::Post-Invoke { $clean };" \
    'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' >"$root/etc/apt/apt.conf.d/docker-clean"
  echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
  # The slim variant: dpkg leaves out docs (but copyrights), man pages and
  # translations from now on, and they are removed from what is installed.
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/'{groff,info,linda,man}'/*' 'path-exclude /usr/share/lintian/overrides/*' \
    'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' >"$root/etc/dpkg/dpkg.cfg.d/docker"
  find "$root/usr/share/doc" -type f ! -name copyright -delete
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  rm -rf "$root"/usr/share/{groff,info,linda,man}/* "$root"/usr/share/lintian/overrides/* \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
    "$root"/var/log/* "$root"/var/cache/ldconfig/aux-cache "$root"/etc/hostname "$root"/etc/resolv.conf
  tar --numeric-owner -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["bash"]' \
    -c "LABEL storeops.content=$3" - "$2" >/dev/null
}

# All by default; `base-images.sh runtime` (node-image.sh), `build` or
# `debian` for one.
if want runtime; then ensure storeops/runtime-base:bookworm runtime_base; fi
if want build; then
  ensure storeops/rust-build:bookworm rust_build "rust $rust_version" "$mirror" \
    "$(cat "$local_cas"/* 2>/dev/null | sha256sum)"
fi
if want debian; then
  ensure storeops/debian:bookworm debian_base "$mirror" "$security_mirror" \
    "$(apt-cache show --no-all-versions "${debian_pkgs[@]}" | grep -E '^(Package|Version):')"
fi
