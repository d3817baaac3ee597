#!/usr/bin/env bash
# testbin/kind-e2e.sh: the kind tier (`make e2e-kind`; `.ci/run` after
# `make test`). The user's own path, run for real with the Makefile's own
# targets: `make up` (the engine, a kind cluster, both images built here, the
# operator chart by Helm 4, the sample Stores, how to open the UIs), `make deploy`
# again (an upgrade), `make e2e` (the e2e crate, its real-pod tests
# included), the chart reinstalled and upgraded by Helm 3 the same way, then
# `make down`. Where no registry answers, `make` builds every image and the
# node image here (hack/airgap/README.md), the stack's too (without Grafana,
# Loki and Tempo: charts/stack/airgap/).
# `make up` runs as a newcomer's would, with none of docker, kind, helm and
# kubectl on PATH (a PATH of links to everything else): it gets them itself
# (hack/tools.sh). Helm 3 comes from the testbin cache, put first on PATH for
# its steps.
# Figures: target/kind-e2e/timings.txt (seconds and CPU use of each step),
# rollout.md and failover.md (`make drills` copies the last two into
# docs/reliability.md); on failure the cluster's state is in target/kind-e2e/
# and the cluster is deleted either way (KEEP_CLUSTER=1 keeps it).
set -euo pipefail
# bare_path <dir> <tool>...: <dir> holds a link to every program on PATH
# (the first of each name) but the tools named.
bare_path() {
  local dir=$1 d f without
  shift
  without=" $* "
  rm -rf "$dir" && mkdir -p "$dir"
  while read -r -d: d; do
    for f in "$d"/*; do
      [[ -f $f && -x $f && ! -e $dir/${f##*/} && $without != *" ${f##*/} "* ]] || continue
      ln -s "$f" "$dir/${f##*/}"
    done
  done <<<"$PATH:"
}

# The commands make urls prints open what it says: each port-forward is run
# as printed and every URL printed under it answers 2xx through it.
check_urls() {
  local printed line cmd="" pid="" url n=0
  printed=$(make --no-print-directory urls) || return 1
  echo "$printed"
  stop_forward() { if [[ -n $pid ]]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""; fi; }
  while IFS= read -r line; do
    if [[ $line =~ ^[A-Za-z]+:\ (.*\ port-forward\ .*)$ ]]; then
      stop_forward
      cmd=${BASH_REMATCH[1]}
      $cmd >/dev/null 2>&1 &
      pid=$!
    elif [[ -n $pid && $line =~ ^\ +then\ (http://localhost:[0-9]+[^ ]*) ]]; then
      url=${BASH_REMATCH[1]}
      for _ in $(seq 30); do curl -gsf -o /dev/null "$url" && break; sleep 1; done
      curl -gsf -o /dev/null "$url" ||
        { echo "kind-e2e: $url does not answer through: $cmd" >&2; stop_forward; return 1; }
      echo "kind-e2e: $url answers through: $cmd" >&2
      n=$((n + 1))
    fi
  done <<<"$printed"
  stop_forward
  ((n >= 4)) || { echo "kind-e2e: make urls printed $n URLs behind port-forwards, not Prometheus' and Alertmanager's" >&2; return 1; }
}

# One function, called with the exit in the same command: all of it is parsed
# before it runs, so an edit of this file during a run cannot make bash read
# on at a stale offset.
main() {
  cd "$(dirname "$0")/.."
  out=target/kind-e2e
  mkdir -p "$out/bin"
  export STEPS_FILE=$PWD/$out/timings.txt
  : >"$STEPS_FILE"
  # This run's figures only (the e2e tests write rollout.md and failover.md).
  rm -f "$out/rollout.md" "$out/failover.md"
  source hack/steps.sh

  # A newcomer's machine: no engine answers (one that hack/airgap/engine.sh
  # started is stopped: make up starts it again; its images stay cached), and
  # PATH has links to every program on ours but these four.
  # A cluster left by a run that was killed (its containers outlive the
  # engine) is removed: make up would reuse it, with no context for it in
  # this run's kubeconfig.
  if docker info >/dev/null 2>&1; then
    docker ps -aq --filter label=io.x-k8s.kind.cluster=storeops | xargs -r docker rm -fv
  fi
  step engine-stopped bash hack/airgap/engine.sh stop
  bare_path "$out/bare-path" docker kind helm kubectl
  # What `make up` gets where they are missing, first for this script too.
  export PATH=$PWD/target/tools/bin:$PWD/$out/bare-path
  # Helm 3, used at the end, built meanwhile (minutes cold, in CPU the
  # cluster's waits leave idle; the testbin cache's lock: built once).
  bash testbin/k8s.sh helm3 >"$out/helm3.path" 2>"$out/helm3.log" &
  helm3_build=$!
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
  if command -v kind >/dev/null && kind get clusters 2>/dev/null | grep -qx storeops; then
    step down-before make --no-print-directory down
  fi
  # Tools got by an earlier run go too: make up gets them again, as it would
  # on a new machine (their builds are cached).
  rm -rf target/tools
  step up make --no-print-directory up 2>&1 | tee "$out/up.log"
  for said in "no Docker engine answers: starting Debian's docker.io" "its client linked into" \
    "kind is not on PATH" "helm is not on PATH" "kubectl is not on PATH"; do
    grep "^make [a-z-]*: " "$out/up.log" | grep -qF "$said" ||
      { echo "kind-e2e: make up did not say \"$said\"" >&2; return 1; }
  done
  step urls check_urls
  step upgrade-helm4 make --no-print-directory deploy
  step e2e-images make --no-print-directory e2e-images
  step e2e make --no-print-directory e2e
  # Helm 3: the release Helm 4 made is removed (the CRD and the Stores stay:
  # kubectl owns the CRD), installed by Helm 3 and upgraded by it.
  step uninstall-helm4 helm --kube-context kind-storeops uninstall storeops --namespace storeops-system --wait
  wait "$helm3_build" || { echo "kind-e2e: building Helm 3 failed:" >&2; tail -20 "$out/helm3.log" >&2; return 1; }
  ln -sf "$(cat "$out/helm3.path")" "$out/bin/helm"
  PATH=$PWD/$out/bin:$PATH step install-helm3 make --no-print-directory deploy
  PATH=$PWD/$out/bin:$PATH step upgrade-helm3 make --no-print-directory deploy
  # The operator Helm 3 installed reconciles a spec change.
  kubectl --context kind-storeops -n shop patch store alpha --type merge -p '{"spec":{"displayName":"Alpha (Helm 3)"}}'
  generation=$(kubectl --context kind-storeops -n shop get store alpha -o jsonpath='{.metadata.generation}')
  step reconciled-helm3 kubectl --context kind-storeops -n shop wait store/alpha \
    --for=jsonpath='{.status.observedGeneration}'="$generation" --timeout 2m
  step stores-ready-helm3 kubectl --context kind-storeops wait -n shop --for=condition=Ready stores --all --timeout 2m
  rm -f "$out/bin/helm"
  echo "kind-e2e: passed; timings in $out/timings.txt" >&2
}
{ main "$@"; exit; }
