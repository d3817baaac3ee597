#!/usr/bin/env bash
# hack/urls.sh urls|grafana <kube context> <airgap true|false>: how to open
# what `make up` installed in a browser (`make urls`, the end of `make up`;
# `make grafana`). Prometheus and Alertmanager are ClusterIP Services: a
# port-forward each; where no registry answers they are built here without
# their web UIs, so their JSON APIs are what it names. Grafana is a NodePort that kind-config.yaml maps to
# localhost:3000, where it runs: where no registry answers it does not (AGPL,
# never built here), and this says so instead of a URL.
set -euo pipefail
what=$1 context=$2 airgap=$3
ns=monitoring
kubectl=(kubectl --context "$context")
release=kube-prometheus-stack

exists() { "${kubectl[@]}" -n "$ns" get "$1" -o name >/dev/null 2>&1; }

forward() { # forward <title> <service> <port> <path>...
  local title=$1 service=$2 port=$3 path
  shift 3
  if ! exists "service/$service"; then
    echo "$title: no service/$service in $ns (make stack installs it)"
    return
  fi
  echo "$title: ${kubectl[*]} -n $ns port-forward service/$service $port"
  for path in "$@"; do echo "    then http://localhost:$port$path"; done
}

grafana() {
  if exists "deployment/$release-grafana"; then
    local user password
    user=$("${kubectl[@]}" -n "$ns" get secret "$release-grafana" -o jsonpath='{.data.admin-user}' | base64 -d)
    password=$("${kubectl[@]}" -n "$ns" get secret "$release-grafana" -o jsonpath='{.data.admin-password}' | base64 -d)
    echo "Grafana: http://localhost:3000 (kind-config.yaml's port mapping; dashboards in the folders storeops, Stores and Bookshop)"
    echo "    user $user, password $password"
  elif [[ $airgap == true ]]; then
    echo "Grafana: not in this cluster. No image registry answers from this machine, so every image"
    echo "    make up runs is built here from source, and Grafana (like Loki and Tempo) is AGPL-licensed:"
    echo "    the project never downloads or builds it (charts/stack/airgap/). The stores' dashboards"
    echo "    are there as ConfigMaps for a Grafana to load: ${kubectl[*]} get configmaps -A -l grafana_dashboard=1"
    echo "    Their queries run in Prometheus (make urls). On a machine with a registry, make up installs Grafana."
  else
    echo "Grafana: not in this cluster (no deployment/$release-grafana in $ns): make stack installs it"
    return 1
  fi
}

case $what in
  urls)
    grafana || true
    if [[ $airgap == true ]]; then
      # Built here from their Go modules, whose zips lack the compiled web
      # UIs (npm and Elm builds upstream): the pages answer 500, the JSON
      # APIs are whole (testbin/backends.sh).
      forward Prometheus "$release-prometheus" 9090 "/api/v1/targets?state=active (the stores' ServiceMonitors)" \
        "/api/v1/rules (their PrometheusRules)" "/api/v1/alerts" \
        "/api/v1/query?query=up{namespace=\"shop\"}"
      forward Alertmanager "$release-alertmanager" 9093 "/api/v2/alerts"
      echo "    (Prometheus and Alertmanager built here have no web UI, only their JSON API:"
      echo "    the modules they are built from hold no compiled pages; a browser shows the JSON.)"
    else
      forward Prometheus "$release-prometheus" 9090 "/targets (the stores' ServiceMonitors)" \
        "/rules (their PrometheusRules)" "/alerts"
      forward Alertmanager "$release-alertmanager" 9093 "/#/alerts"
    fi
    ;;
  grafana) grafana ;;
  *) echo "usage: $0 urls|grafana <kube context> <airgap true|false>" >&2; exit 2 ;;
esac
