# shellcheck shell=bash
# hack/airgap/pyyaml.sh (sourced): need_pyyaml makes sure `python3 -c 'import
# yaml'` works, installing Debian's python3-yaml where it may (root, apt), or
# exits naming the package. kind-config.sh and collector.sh use it.
need_pyyaml() {
  if ! python3 -c 'import yaml' 2>/dev/null && [[ $EUID == 0 ]] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >/dev/null 2>&1 ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >/dev/null; } || true
  fi
  python3 -c 'import yaml' 2>/dev/null || {
    echo "${0##*/}: python3 with PyYAML is needed (Debian: apt-get install python3-yaml)" >&2
    exit 1
  }
}
