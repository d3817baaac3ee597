# storeops — one entry point for people and CI.
SHELL := /bin/bash
CARGO ?= cargo
export STOREOPS_TESTBIN_DIR ?= $(HOME)/.cache/storeops/testbin

.PHONY: all build run test unit lint fmt bench testbin deps clean help crds cluster-local cluster-local-down e2e e2e-local e2e-kind e2e-images e2e-image-builds \
	up down cluster images image-builds stack stack-images deploy demo grafana urls drills engine

all: build

# --- The kind path: a bare laptop with docker, kind, helm and kubectl. ---
KIND_CLUSTER ?= storeops
KUBE_CONTEXT ?= kind-$(KIND_CLUSTER)
VERSION := $(shell sed -n 's/^appVersion: "\(.*\)"/\1/p' charts/storeops/Chart.yaml)
OPERATOR_IMAGE ?= storeops/operator:$(VERSION)
STORE_IMAGE ?= storeops/store-service:$(VERSION)
# The e2e tests' PostgreSQL (e2e/postgres/: Debian's package).
POSTGRES_IMAGE ?= storeops/postgres:15
# Where stores and the operator send OTLP: the collector of charts/stack/.
OTLP_ENDPOINT ?= http://otel-collector.monitoring:4317
# The observability stack's chart versions (testbin/charts.sh renders the same in the tests).
KPS_VERSION := 88.6.1
LOKI_VERSION := 18.11.7
TEMPO_VERSION := 2.3.0
PROMETHEUS_COMMUNITY_REPO := https://prometheus-community.github.io/helm-charts
GRAFANA_COMMUNITY_REPO := https://grafana-community.github.io/helm-charts
# Extra values for the stack's charts (-f FILE or --set ...), after charts/stack/'s.
KPS_VALUES ?=
LOKI_VALUES ?=
TEMPO_VALUES ?=
OTELCOL_IMAGE ?= storeops/otelcol:0.160.0
KUBECTL = kubectl --context $(KUBE_CONTEXT)
HELM = helm --kube-context $(KUBE_CONTEXT)
# A target that needs docker, kind, helm or kubectl gets the ones this machine
# lacks (hack/tools.sh: a Docker engine where none answers; the others built
# from source once and linked into target/tools/bin, last on PATH so that the
# user's own come first); any other missing tool stops it, named.
STOREOPS_TOOLS_BIN ?= $(CURDIR)/target/tools/bin
export PATH := $(PATH):$(STOREOPS_TOOLS_BIN)
need = @bash hack/need.sh $@ $(1)

# Where no image registry answers (hack/airgap/detect.sh, asked once and only
# by the targets that use images; or STOREOPS_AIRGAP=true|false), everything a
# container runs is made here (hack/airgap/README.md): the Dockerfiles' base
# images from Debian packages, passed as build arguments to the classic
# builder (it takes a local FROM image without pulling); a kind node image
# with every image Kubernetes runs, and the kind config it needs, generated
# from kind-config.yaml; the stack's images from their Go modules and its
# charts from their sources (testbin/charts.sh), installed with an overlay
# per chart (charts/stack/airgap/): no Grafana, Loki or Tempo there (AGPL,
# not built), so `make up` skips `grafana`. Elsewhere every command is upstream's.
STOREOPS_AIRGAP ?= $(eval STOREOPS_AIRGAP := $(shell bash hack/airgap/detect.sh))$(STOREOPS_AIRGAP)
airgap = $(if $(filter true,$(STOREOPS_AIRGAP)),$(1),$(2))
AIRGAP_BUILD_ARGS = --build-arg BUILD_IMAGE=storeops/rust-build:bookworm --build-arg RUNTIME_IMAGE=storeops/runtime-base:bookworm
KIND_CONFIG = $(call airgap,target/kind-config.airgap.json,kind-config.yaml)

# Everything, in order: cluster, images, stack, operator, sample stores and
# load; then how to open Prometheus, Alertmanager and Grafana (make urls).
up:
	$(call need,docker kind helm kubectl base64)
	$(MAKE) STOREOPS_AIRGAP=$(STOREOPS_AIRGAP) cluster images stack deploy demo urls

# The kind cluster, with the host's sysctls put back where a node changed them.
down:
	$(call need,kind)
	kind delete cluster --name $(KIND_CLUSTER)
	$(call airgap,bash hack/airgap/sysctls.sh restore)

# The kind cluster (kind-config.yaml) and the namespaces with their Pod Security levels.
cluster:
	$(call need,docker kind kubectl)
	$(call airgap,bash hack/airgap/node-image.sh)
	$(call airgap,mkdir -p target && bash hack/airgap/kind-config.sh kind-config.yaml >$(KIND_CONFIG))
	$(call airgap,bash hack/airgap/sysctls.sh save)
	@# A cluster already there (an earlier make up) gets its context written
	@# again: a kubeconfig replaced or a HOME changed since would leave none.
	if kind get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)'; then \
	  kind export kubeconfig --name $(KIND_CLUSTER); \
	else kind create cluster --name $(KIND_CLUSTER) --config $(KIND_CONFIG) --wait 120s; fi
	$(KUBECTL) apply -f manifests/namespaces.yaml

# Both images, built by docker and loaded into the kind node (no registry).
images:
	$(call need,docker kind)
	$(MAKE) --no-print-directory STOREOPS_AIRGAP=$(STOREOPS_AIRGAP) image-builds
	kind load docker-image --name $(KIND_CLUSTER) $(OPERATOR_IMAGE) $(STORE_IMAGE)

# Both images built by docker and checked, without a cluster.
image-builds:
	$(call need,docker)
	$(call airgap,bash hack/airgap/base-images.sh runtime && bash hack/airgap/base-images.sh build)
	$(call airgap,DOCKER_BUILDKIT=0 )docker build -f operator/Dockerfile -t $(OPERATOR_IMAGE) $(call airgap,$(AIRGAP_BUILD_ARGS) ).
	$(call airgap,DOCKER_BUILDKIT=0 )docker build -f store-service/Dockerfile -t $(STORE_IMAGE) $(call airgap,$(AIRGAP_BUILD_ARGS) ).
	bash hack/image-check.sh $(OPERATOR_IMAGE) 60
	bash hack/image-check.sh $(STORE_IMAGE) 60

# The images only the e2e tests run (PostgreSQL), built and loaded into the node.
e2e-images:
	$(call need,docker kind)
	$(MAKE) --no-print-directory STOREOPS_AIRGAP=$(STOREOPS_AIRGAP) e2e-image-builds
	kind load docker-image --name $(KIND_CLUSTER) $(POSTGRES_IMAGE)

# Those images built by docker, without a cluster.
e2e-image-builds:
	$(call need,docker)
	$(call airgap,bash hack/airgap/base-images.sh debian)
	$(call airgap,DOCKER_BUILDKIT=0 )docker build -f e2e/postgres/Dockerfile -t $(POSTGRES_IMAGE) $(call airgap,--build-arg BASE_IMAGE=storeops/debian:bookworm )e2e/postgres

# A docker engine where none answers (Debian's docker.io, with what a
# capability-limited VM needs: hack/airgap/README.md); a running Docker is left alone.
engine:
	bash hack/airgap/engine.sh

# Prometheus, Alertmanager, Grafana, Loki, Tempo and the OpenTelemetry
# Collector in `monitoring`, with the values of charts/stack/ then yours
# (KPS_VALUES, LOKI_VALUES, TEMPO_VALUES). Where no registry answers: the
# pinned charts from their sources (testbin/charts.sh), the images built here
# (stack-images), the overlays of charts/stack/airgap/ last, and neither Loki
# nor Tempo (the collector's variant: hack/airgap/collector.sh).
stack:
	$(call need,helm kubectl)
	$(KUBECTL) apply -f manifests/namespaces.yaml
	$(call airgap,$(MAKE) STOREOPS_AIRGAP=true stack-images)
	$(HELM) upgrade --install kube-prometheus-stack $(call airgap,"$$(bash testbin/charts.sh)/kube-prometheus-stack",kube-prometheus-stack --repo $(PROMETHEUS_COMMUNITY_REPO) --version $(KPS_VERSION)) \
	  --namespace monitoring -f charts/stack/kube-prometheus-stack.yaml $(KPS_VALUES) $(call airgap,-f charts/stack/airgap/kube-prometheus-stack.yaml) --wait --timeout 10m
	$(call airgap,,$(HELM) upgrade --install loki loki --repo $(GRAFANA_COMMUNITY_REPO) \
	  --version $(LOKI_VERSION) --namespace monitoring -f charts/stack/loki.yaml $(LOKI_VALUES) --wait --timeout 10m)
	$(call airgap,,$(HELM) upgrade --install tempo tempo --repo $(GRAFANA_COMMUNITY_REPO) \
	  --version $(TEMPO_VERSION) --namespace monitoring -f charts/stack/tempo.yaml $(TEMPO_VALUES) --wait --timeout 10m)
	$(call airgap,bash hack/airgap/collector.sh $(OTELCOL_IMAGE) | $(KUBECTL) apply -f -,$(KUBECTL) apply -f charts/stack/otel-collector.yaml)
	$(KUBECTL) -n monitoring rollout status deployment/otel-collector --timeout 5m

# The stack's images, built from source and loaded into the kind node
# (hack/airgap/stack-images.sh; for clusters without registries).
stack-images:
	$(call need,docker kind)
	images=$$(bash hack/airgap/stack-images.sh) && kind load docker-image --name $(KIND_CLUSTER) $$images

# The operator by its chart. kubectl owns the CRD: it applies it on a first
# install and on every upgrade (Helm installs a chart's crds/ once and never
# upgrades them), and Helm skips crds/ so that the two never both own
# .spec.versions (Helm 4 applies crds/ server-side and stops at kubectl's
# fields). --force-conflicts takes the CRD over from a plain `helm install`.
deploy:
	$(call need,helm kubectl)
	$(KUBECTL) apply -f manifests/namespaces.yaml
	$(KUBECTL) apply --server-side --force-conflicts -f crds/storeops.dev_stores.yaml
	$(HELM) upgrade --install storeops charts/storeops --namespace storeops-system --skip-crds \
	  --set image.repository=$(firstword $(subst :, ,$(OPERATOR_IMAGE))) --set image.tag=$(lastword $(subst :, ,$(OPERATOR_IMAGE))) \
	  --set storeImage=$(STORE_IMAGE) --set otlpEndpoint=$(OTLP_ENDPOINT) --wait --timeout 5m

# The three sample Stores and their load generator in `shop`, until Ready.
demo:
	$(call need,kubectl)
	$(KUBECTL) apply -f manifests/namespaces.yaml
	$(KUBECTL) apply -n shop -f manifests/stores/
	$(KUBECTL) apply -n shop -f manifests/loadgen.yaml
	$(KUBECTL) wait -n shop --for=condition=Ready stores --all --timeout 5m
	$(KUBECTL) get stores -n shop

# Where Grafana is (kind-config.yaml maps it to localhost:3000) and its login;
# where no registry answers, why there is none (hack/urls.sh).
grafana:
	$(call need,kubectl base64)
	@bash hack/urls.sh grafana $(KUBE_CONTEXT) $(STOREOPS_AIRGAP)

# How to open Prometheus (targets, rules, alerts) and Alertmanager (a
# port-forward each) and Grafana, or why it does not run (hack/urls.sh).
urls:
	$(call need,kubectl base64)
	@bash hack/urls.sh urls $(KUBE_CONTEXT) $(STOREOPS_AIRGAP)

help:
	@echo "make up       kind cluster + stack + images + operator + sample stores + load (gets docker, kind, helm, kubectl where missing)"
	@echo "make down     delete the kind cluster"
	@echo "make cluster | images | stack | deploy | demo   the steps of make up, one at a time"
	@echo "make urls     how to open Prometheus, Alertmanager and Grafana in a browser"
	@echo "make grafana  Grafana's URL and login (or why it does not run here)"
	@echo "make engine   start a docker engine where none answers (hack/airgap/: Debian's docker.io)"
	@echo "make deps     install system packages the tests need (Debian: postgresql, go, nodejs, npm)"
	@echo "make testbin  build the test programs from source into $(STOREOPS_TESTBIN_DIR)"
	@echo "make cluster-local       a real control plane on loopback (kubeconfig: target/cluster-local/kubeconfig)"
	@echo "make cluster-local-down  stop it"
	@echo "make e2e      end-to-end tests against the current kube context (operator installed there; on kind after make e2e-images)"
	@echo "make e2e-images  the e2e tests' PostgreSQL image, built and loaded into the kind node"
	@echo "make e2e-local  the tests of any cluster against cluster-local with the operator under its chart's RBAC"
	@echo "make e2e-kind   engine + make up + make e2e + Helm 3 and 4 installs and upgrades + make down (testbin/kind-e2e.sh)"
	@echo "make crds     regenerate crds/, the chart's CRD and docs/reference/store.md from the Rust types"
	@echo "make build    build the workspace"
	@echo "make run      serve a demo store on :8080 (SQLite in target/demo) with a load generator"
	@echo "make test     lint, unit and integration tests (real PostgreSQL, promtool, Prometheus, OTel Collector)"
	@echo "make bench    store-service (SQLite/PostgreSQL, telemetry on/off) and operator at scale -> docs/benchmarks.md"
	@echo "make drills   fault drills, bad input, API fuzzing -> docs/reliability.md"

build:
	$(call need,$(CARGO))
	$(CARGO) build --workspace --bins

# A demo store on :8080 with live load; Ctrl-C stops both.
run: build
	$(call need,curl)
	mkdir -p target/demo
	STORE_ID=demo PORT=8080 DATABASE_URL=sqlite://target/demo/store.db \
	CATALOG_FILE=store-service/examples/catalog.yaml ADMIN_TOKEN=demo-admin-token-please-change \
	target/debug/store-service serve & server=$$!; trap "kill $$server" EXIT INT TERM; \
	until curl -sf localhost:8080/readyz >/dev/null; do sleep 0.2; done; \
	ADMIN_TOKEN=demo-admin-token-please-change target/debug/store-service loadgen \
	  --target http://127.0.0.1:8080 --rate 20 --duration 24h

deps:
	bash .ci/install-deps.sh

# Every program the tests run, built once into the cache; prints where.
testbin:
	$(call need,go)
	bash testbin/install.sh env

crds:
	$(call need,$(CARGO))
	$(CARGO) run -q -p operator --bin crdgen

lint:
	$(call need,$(CARGO))
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	# The operator as released: without the tests' `proofs` feature.
	$(CARGO) clippy -p operator --lib --bins -- -D warnings

# The tests find the programs through the variables `install.sh env` prints.
# e2e runs last, against the local control plane with the operator running.
test:
	$(call need,$(CARGO) go)
	$(MAKE) deps testbin lint
	eval "$$(bash testbin/install.sh env)" && $(CARGO) test --workspace --all-targets --exclude e2e
	$(MAKE) e2e-local

cluster-local:
	bash testbin/cluster-local.sh up

cluster-local-down:
	bash testbin/cluster-local.sh down

# The e2e crate against whatever cluster the current kubeconfig names, one
# test binary in four groups run one after another, each its own command so
# make stops at the first that fails: the tests of any cluster, those only
# real pods allow (kind, failover: it takes the operator's leader away, so
# it never runs beside the others) and those of the stack (make stack).
# hack/e2e-test.sh builds as make test does (--workspace --all-targets) and
# runs the e2e binary alone: other selections compile tokio, hyper and kube
# again with other features.
e2e:
	$(call need,$(CARGO))
	CARGO=$(CARGO) bash hack/e2e-test.sh any_cluster::
	CARGO=$(CARGO) bash hack/e2e-test.sh kind::
	CARGO=$(CARGO) bash hack/e2e-test.sh failover::
	CARGO=$(CARGO) bash hack/e2e-test.sh stack::

# The kind tier: engine, make up, make deploy again, make e2e, the chart by
# Helm 3 too, make down (testbin/kind-e2e.sh; .ci/run runs it after make test).
e2e-kind:
	$(call need,$(CARGO) go)
	bash testbin/kind-e2e.sh

e2e-local:
	$(call need,$(CARGO) go)
	bash testbin/cluster-local.sh e2e

unit:
	$(call need,$(CARGO))
	$(CARGO) test --workspace --lib --bins --exclude e2e

fmt:
	$(CARGO) fmt --all

# Figures, not tests: docs/benchmarks.md (the store-service on SQLite and
# PostgreSQL with telemetry on and off; the operator at 10, 100 and 1,000
# Stores; the alert rules of as many Stores on a real Prometheus, today's
# per-Store rules, the fleet's and Sloth's) and docs/reliability.md (fault
# drills, bad input, fuzzing).
RELEASE_BINS = $(CARGO) build --release -p store-service -p operator -p tools
bench:
	$(call need,$(CARGO) go python3 curl taskset)
	$(RELEASE_BINS)
	mkdir -p target/bench
	OTELCOL_BIN="$$(bash testbin/install.sh otelcol)" BENCH_OUT=target/bench/store-service.md bash store-service/bench/run.sh
	eval "$$(bash testbin/install.sh env)" && target/release/scale-bench --operator target/release/operator \
	  --stores 10,100,1000 --quiet-seconds 300 --out target/bench/operator.md
	eval "$$(bash testbin/install.sh env)" && target/release/rule-bench --prometheus "$$PROMETHEUS_BIN" --promtool "$$PROMTOOL_BIN" \
	  --sloth "$$(bash testbin/backends.sh sloth)" --stores 10,100,1000 --seconds 120 --out target/bench/rules.md
	{ printf '# Benchmarks\n\nGenerated by `make bench` (the kind section from the last `make e2e-kind`); do not edit by hand.\n\n'; \
	  cat target/bench/store-service.md; echo; cat target/bench/operator.md; echo; cat target/bench/rules.md; \
	  if [ -f target/kind-e2e/memory.md ]; then printf '\n## Memory of the demo on kind (`make e2e-kind`)\n\n'; \
	    cat target/kind-e2e/memory.md; fi; } >docs/benchmarks.md

drills:
	$(call need,$(CARGO) go python3 curl)
	$(RELEASE_BINS)
	mkdir -p target/bench
	eval "$$(bash testbin/install.sh env)" && target/release/drills --operator target/release/operator \
	  --store-service target/release/store-service --otelcol "$$OTELCOL_BIN" --out target/bench/drills.md
	eval "$$(bash testbin/install.sh env)" && target/release/scale-bench --operator target/release/operator \
	  --stores 1000 --kill-at 500 --out target/bench/kill.md
	STORE_SERVICE_BIN=target/release/store-service bash store-service/fuzz/run.sh 120 >target/bench/fuzz.md
	{ printf '# Reliability\n\nGenerated by `make drills` (the kind section from the last `make e2e-kind`); do not edit by hand.\n\n'; \
	  cat target/bench/drills.md; echo; cat target/bench/kill.md; echo; cat target/bench/fuzz.md; \
	  if [ -f target/kind-e2e/rollout.md ]; then printf '\n## On kind: rollouts under load and leader failover (`make e2e-kind`)\n\n'; \
	    cat target/kind-e2e/rollout.md; echo; cat target/kind-e2e/failover.md; fi; } >docs/reliability.md

clean:
	$(CARGO) clean
