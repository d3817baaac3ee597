#!/usr/bin/env bash
# hack/airgap/collector.sh: charts/stack/otel-collector.yaml for a cluster
# without registries, printed on stdout, derived from that file (never a copy
# kept by hand):
# - the image is storeops/otelcol:<version>, the collector testbin builds
#   (testbin/otelcol/manifest.yaml: the same version, the components the
#   config uses), made by hack/airgap/stack-images.sh;
# - traces and logs go to the `debug` exporter instead of Tempo and Loki,
#   which are not built here (AGPL). The span metrics and service graph still
#   reach Prometheus, and the collector's own metrics (ServiceMonitor
#   otel-collector: otelcol_receiver_accepted_spans_total, ..._log_records_total)
#   show what it received; its log shows the first records' resource attributes.
#   bash hack/airgap/collector.sh IMAGE | kubectl apply -f -
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# == 1 ]] || { echo "usage: $0 IMAGE (prints the manifests)" >&2; exit 2; }
# shellcheck source=hack/airgap/pyyaml.sh
source "$here/pyyaml.sh"
need_pyyaml
IMAGE=$1 python3 - "$here/../../charts/stack/otel-collector.yaml" <<'PY'
import os, sys, yaml

AGPL = {"otlp_grpc/tempo", "otlp_http/loki"}
with open(sys.argv[1]) as f:
    docs = [d for d in yaml.safe_load_all(f) if d]
for doc in docs:
    if doc["kind"] == "ConfigMap":
        config = yaml.safe_load(doc["data"]["config.yaml"])
        for name in AGPL:
            del config["exporters"][name]
        # detailed: the resource attributes of the first records of each
        # batch, then one record in 500, in the collector's log.
        config["exporters"]["debug"] = {
            "verbosity": "detailed",
            "sampling_initial": 5,
            "sampling_thereafter": 500,
        }
        for pipeline in config["service"]["pipelines"].values():
            exporters = [e for e in pipeline["exporters"] if e not in AGPL]
            if len(exporters) < len(pipeline["exporters"]):
                exporters.insert(0, "debug")
            pipeline["exporters"] = exporters
        doc["data"]["config.yaml"] = yaml.safe_dump(config, sort_keys=False)
    if doc["kind"] == "Deployment":
        for c in doc["spec"]["template"]["spec"]["containers"]:
            c["image"] = os.environ["IMAGE"]
print(yaml.safe_dump_all(docs, sort_keys=False), end="")
PY
