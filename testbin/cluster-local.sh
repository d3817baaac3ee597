#!/usr/bin/env bash
# The local control plane in the background, for a person or for `make e2e-local`.
#   bash testbin/cluster-local.sh up [--operator]   start (and the operator under its chart's RBAC)
#   bash testbin/cluster-local.sh down              stop every program
#   bash testbin/cluster-local.sh e2e               up --operator, the e2e crate, down
# Files, logs and the admin kubeconfig: target/cluster-local/ (kubeconfig appears when ready).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
[[ $target == /* ]] || target=$PWD/$target
dir=$target/cluster-local
pidfile=$dir/pid

running() { [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

up() {
  local args=()
  [[ ${1:-} == --operator ]] && args=(--operator "$target/debug/operator")
  if running; then
    echo "cluster-local is already running (pid $(cat "$pidfile")); KUBECONFIG=$dir/kubeconfig" >&2
    return 1
  fi
  eval "$(bash testbin/install.sh env)"
  # The same selection as `make test`'s cargo test: no rebuild with other features.
  cargo build -q --workspace --all-targets
  mkdir -p "$dir"
  rm -f "$dir/kubeconfig"
  setsid nohup "$target/debug/cluster-local" "$dir" "${args[@]}" >"$dir/cluster-local.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local start=$SECONDS
  until [[ -f $dir/kubeconfig ]]; do
    if ! running; then
      echo "cluster-local failed; $dir/cluster-local.log says:" >&2
      tail -20 "$dir/cluster-local.log" >&2
      return 1
    fi
    if ((SECONDS - start > 180)); then
      echo "cluster-local not ready after 180 s; see $dir/*.log" >&2
      down
      return 1
    fi
    sleep 0.5
  done
  echo "cluster-local ready in $((SECONDS - start)) s: export KUBECONFIG=$dir/kubeconfig" >&2
}

down() {
  running || { rm -f "$pidfile"; return 0; }
  local pid
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "cluster-local stopped" >&2
}

# The e2e crate against a fresh cluster-local with the operator; stopped after.
e2e() {
  up --operator
  local rc=0
  # Built as `make test` builds (hack/e2e-test.sh: nothing compiled again).
  # Only the tests of any cluster: the other groups need real pods (kind).
  KUBECONFIG=$dir/kubeconfig bash hack/e2e-test.sh any_cluster:: || rc=$?
  if ((rc)); then
    echo "e2e failed; the operator's log ends with:" >&2
    tail -30 "$dir/operator-local.log" >&2 || true
  fi
  down
  return "$rc"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  down) down ;;
  e2e) e2e ;;
  *) echo "usage: $0 up [--operator] | down | e2e" >&2; exit 2 ;;
esac
