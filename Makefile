# storeops — one entry point for people and CI.
SHELL := /bin/bash
CARGO ?= cargo
export STOREOPS_TESTBIN_DIR ?= $(HOME)/.cache/storeops/testbin

.PHONY: all build run test unit lint fmt bench testbin deps clean help crds cluster-local cluster-local-down e2e e2e-local

all: build

help:
	@echo "make deps     install system packages the tests need (Debian: postgresql, prometheus)"
	@echo "make testbin  build the test programs from source into $(STOREOPS_TESTBIN_DIR)"
	@echo "make cluster-local       a real control plane on loopback (kubeconfig: target/cluster-local/kubeconfig)"
	@echo "make cluster-local-down  stop it"
	@echo "make e2e      end-to-end tests against the current kube context (operator installed there)"
	@echo "make e2e-local  the same tests against cluster-local with the operator under its chart's RBAC"
	@echo "make crds     regenerate crds/ and the chart's CRD from the Rust types"
	@echo "make build    build the workspace"
	@echo "make run      serve a demo store on :8080 (SQLite in target/demo) with a load generator"
	@echo "make test     lint, unit and integration tests (real PostgreSQL, promtool, Prometheus, OTel Collector)"
	@echo "make bench    store-service throughput with telemetry on and off -> docs/benchmarks.md"

build:
	$(CARGO) build --workspace --bins

# A demo store on :8080 with live load; Ctrl-C stops both.
run: build
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
	bash testbin/install.sh env

crds:
	$(CARGO) run -q -p operator --bin crdgen

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The tests find the programs through the variables `install.sh env` prints.
# e2e runs last, against the local control plane with the operator running.
test: deps testbin lint
	eval "$$(bash testbin/install.sh env)" && $(CARGO) test --workspace --all-targets --exclude e2e
	$(MAKE) e2e-local

cluster-local:
	bash testbin/cluster-local.sh up

cluster-local-down:
	bash testbin/cluster-local.sh down

# The e2e crate against whatever cluster the current kubeconfig names.
e2e:
	$(CARGO) test --workspace --test e2e

e2e-local:
	bash testbin/cluster-local.sh e2e

unit:
	$(CARGO) test --workspace --lib --bins --exclude e2e

fmt:
	$(CARGO) fmt --all

bench:
	$(CARGO) build --release -p store-service
	OTELCOL_BIN="$$(bash testbin/install.sh otelcol)" bash store-service/bench/run.sh

clean:
	$(CARGO) clean
