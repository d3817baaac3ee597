#!/usr/bin/env bash
# testbin/kind-e2e.sh: the kind tier (`make e2e-kind`; `.ci/run` after
# `make test`). The user's own path, run for real with the Makefile's own
# targets: an engine (make engine), `make up` (a kind cluster, both images
# built here, the operator chart by Helm 4, the sample Stores), `make deploy`
# again (an upgrade), `make e2e` (the e2e crate, its real-pod tests
# included), the chart reinstalled and upgraded by Helm 3 the same way, then
# `make down`. Where no registry answers, `make` builds every image and the
# node image here (hack/airgap/README.md), the stack's too (without Grafana,
# Loki and Tempo: charts/stack/airgap/).
# kind, Helm 4, Helm 3 and kubectl come from the testbin cache, first on PATH.
# Figures: target/kind-e2e/timings.txt, rollout.md and failover.md (`make
# drills` copies the last two into docs/reliability.md); on failure the cluster's state is in
# target/kind-e2e/ and the cluster is deleted either way (KEEP_CLUSTER=1
# keeps it).
set -euo pipefail
# One function, called with the exit in the same command: all of it is parsed
# before it runs, so an edit of this file during a run cannot make bash read
# on at a stale offset.
main() {
  cd "$(dirname "$0")/.."
  out=target/kind-e2e
  mkdir -p "$out/bin"
  : >"$out/timings.txt"
  # This run's figures only (the e2e tests write rollout.md and failover.md).
  rm -f "$out/rollout.md" "$out/failover.md"
  step() { # step <name> <command...>: runs it, records its seconds
    local name=$1 start=$SECONDS
    shift
    echo "kind-e2e: $name: $*" >&2
    "$@"
    echo "$name $((SECONDS - start)) s" | tee -a "$out/timings.txt" >&2
  }

  step engine bash hack/airgap/engine.sh
  # The programs it runs, built once into the testbin cache (seconds when
  # warm); only these, so the tier can run alone (.ci/run's STOREOPS_CI_TIERS).
  kind=$(bash testbin/k8s.sh kind)
  helm4=$(bash testbin/k8s.sh helm)
  helm3=$(bash testbin/k8s.sh helm3)
  kubectl=$(bash testbin/kind-node.sh kubectl)
  ln -sf "$kind" "$out/bin/kind"
  ln -sf "$helm4" "$out/bin/helm"
  ln -sf "$kubectl" "$out/bin/kubectl"
  export PATH=$PWD/$out/bin:$PATH
  # The e2e crate connects through the current kubeconfig: kind's context.
  export KUBECONFIG=$PWD/$out/kubeconfig
  airgap=${STOREOPS_AIRGAP:-$(bash hack/airgap/detect.sh)}
  export STOREOPS_AIRGAP=$airgap

  finish() {
    local rc=$?
    if ((rc != 0)) && kind get clusters 2>/dev/null | grep -qx storeops; then
      echo "kind-e2e: failed ($rc); the cluster's state is in $out/state.txt" >&2
      {
        kubectl --context kind-storeops get nodes,pods,pvc -A -o wide
        kubectl --context kind-storeops get stores -A
        kubectl --context kind-storeops get events -A --sort-by=.lastTimestamp | tail -60
        kubectl --context kind-storeops -n storeops-system logs -l app.kubernetes.io/name=storeops-operator --tail 100 --prefix
      } >"$out/state.txt" 2>&1 || true
    fi
    if [[ ${KEEP_CLUSTER:-0} != 1 ]]; then make --no-print-directory down || true; fi
    exit "$rc"
  }
  trap finish EXIT

  # A fresh cluster: a kind cluster left by an earlier run goes first.
  if kind get clusters 2>/dev/null | grep -qx storeops; then step down-before make --no-print-directory down; fi
  step up make --no-print-directory up
  step upgrade-helm4 make --no-print-directory deploy
  step e2e-images make --no-print-directory e2e-images
  step e2e make --no-print-directory e2e
  # Helm 3: the release Helm 4 made is removed (the CRD and the Stores stay:
  # kubectl owns the CRD), installed by Helm 3 and upgraded by it.
  step uninstall-helm4 helm --kube-context kind-storeops uninstall storeops --namespace storeops-system --wait
  ln -sf "$helm3" "$out/bin/helm"
  step install-helm3 make --no-print-directory deploy
  step upgrade-helm3 make --no-print-directory deploy
  # The operator Helm 3 installed reconciles a spec change.
  kubectl --context kind-storeops -n shop patch store alpha --type merge -p '{"spec":{"displayName":"Alpha (Helm 3)"}}'
  generation=$(kubectl --context kind-storeops -n shop get store alpha -o jsonpath='{.metadata.generation}')
  step reconciled-helm3 kubectl --context kind-storeops -n shop wait store/alpha \
    --for=jsonpath='{.status.observedGeneration}'="$generation" --timeout 2m
  step stores-ready-helm3 kubectl --context kind-storeops wait -n shop --for=condition=Ready stores --all --timeout 2m
  ln -sf "$helm4" "$out/bin/helm"
  echo "kind-e2e: passed; timings in $out/timings.txt" >&2
}
{ main "$@"; exit; }
