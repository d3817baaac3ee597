# storeops — one entry point for people and CI.
SHELL := /bin/bash
CARGO ?= cargo
export STOREOPS_TESTBIN_DIR ?= $(HOME)/.cache/storeops/testbin

.PHONY: all build run test unit lint fmt bench testbin deps clean help

all: build

help:
	@echo "make deps     install system packages the tests need (Debian: postgresql, prometheus)"
	@echo "make testbin  build the test programs from source into $(STOREOPS_TESTBIN_DIR)"
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

testbin:
	bash testbin/install.sh otelcol >/dev/null

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The integration tests find the collector through OTELCOL_BIN.
test: deps testbin lint
	OTELCOL_BIN="$$(bash testbin/install.sh otelcol)" $(CARGO) test --workspace --all-targets

unit:
	$(CARGO) test --workspace --lib --bins

fmt:
	$(CARGO) fmt --all

bench: testbin
	$(CARGO) build --release -p store-service
	OTELCOL_BIN="$$(bash testbin/install.sh otelcol)" bash store-service/bench/run.sh

clean:
	$(CARGO) clean
