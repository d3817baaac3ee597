#!/usr/bin/env bash
# hack/airgap/sysctls.sh save|restore|show: the host-wide kernel settings a
# kubelet in a kind node writes (kubelet's setupKernelTunables; a privileged
# node container reaches the host's /proc/sys, and these are not namespaced):
# kernel.panic=10, kernel.panic_on_oops=1 (an oops then reboots the machine),
# vm.overcommit_memory=1, vm.panic_on_oom=0, kernel.keys.root_maxkeys and
# root_maxbytes. `save` before `kind create cluster`, `restore` after
# `kind delete cluster`.
#   save     writes the current values to $STOREOPS_SYSCTLS_FILE (default
#            /run/storeops/host-sysctls: tmpfs, so they are this boot's); an
#            existing file is kept (a second save while a cluster runs would
#            record the kubelet's values)
#   restore  writes the saved values back (as root) and removes the file
#   show     prints the current values
set -euo pipefail
file=${STOREOPS_SYSCTLS_FILE:-/run/storeops/host-sysctls}
keys=(kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
current() { local k; for k in "${keys[@]}"; do echo "$k=$(cat "/proc/sys/${k//.//}")"; done; }

case "${1:-}" in
  save)
    if [[ -f $file ]]; then
      echo "sysctls.sh: kept the values saved in $file" >&2
    else
      mkdir -p "$(dirname "$file")"
      current >"$file.tmp" && mv "$file.tmp" "$file"
      echo "sysctls.sh: saved to $file: $(paste -sd' ' "$file")" >&2
    fi
    ;;
  restore)
    [[ -f $file ]] || { echo "sysctls.sh: nothing saved in $file" >&2; exit 0; }
    while IFS='=' read -r k v; do
      [[ $(cat "/proc/sys/${k//.//}") == "$v" ]] || echo "$v" >"/proc/sys/${k//.//}"
    done <"$file"
    echo "sysctls.sh: restored $(paste -sd' ' "$file")" >&2
    rm -f "$file"
    ;;
  show) current ;;
  *) echo "usage: $0 save|restore|show" >&2; exit 2 ;;
esac
