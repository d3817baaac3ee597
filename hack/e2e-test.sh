#!/usr/bin/env bash
# hack/e2e-test.sh <filter> [test-binary args...]: runs the e2e crate's tests
# whose path contains <filter> (make e2e's groups: any_cluster::, kind::,
# failover::, stack::) against the current kube context.
# hack/e2e-test.sh --built: builds it and prints the test binary's path.
#
# Built as `make test` builds (cargo test --workspace --all-targets), then
# the e2e test binary run alone, from the crate's directory as cargo test
# would. `cargo test --test e2e` would resolve other features (the other
# members' dev-dependencies, e.g. tokio's test-util, drop out) and compile
# tokio, hyper, kube and testenv again: 3.4 min on 2 cores, measured. A
# filter on `cargo test --workspace --all-targets` instead would also run any
# other crate's tests whose path holds the group's name.
#
# STOREOPS_E2E_BIN, when set, is that binary, built already: no cargo. .ci/run
# sets it after its build, because cargo holds the build directory's lock
# while `make test`'s tests run beside the kind tier (cold at 6ec8bb8, make
# e2e waited 2m13s on it).
set -euo pipefail
cd "$(dirname "$0")/.."
(($# >= 1)) || { echo "usage: $0 <filter> [test-binary args...] | --built" >&2; exit 2; }
bin=${STOREOPS_E2E_BIN:-}
if [[ -z $bin ]]; then
  cargo=${CARGO:-cargo}
  json=$("$cargo" test --workspace --all-targets --no-run --message-format=json-render-diagnostics)
  # The compiler-artifact line of the e2e package's test target names its binary.
  bin=$(grep -F '"target":{"kind":["test"],"crate_types":["bin"],"name":"e2e"' <<<"$json" |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
  [[ -n $bin && -x $bin ]] || { echo "$0: cargo built no e2e test binary (cargo test --workspace --all-targets --no-run)" >&2; exit 1; }
elif [[ ! -x $bin ]]; then
  echo "$0: STOREOPS_E2E_BIN=$bin is not an executable (unset it to build with cargo)" >&2
  exit 1
fi
if [[ $1 == --built ]]; then
  echo "$bin"
  exit 0
fi
cd e2e
exec "$bin" "$@"
