# storeops — one entry point for people and CI.
SHELL := /bin/bash
CARGO ?= cargo
export STOREOPS_TESTBIN_DIR ?= $(HOME)/.cache/storeops/testbin

.PHONY: all build test unit lint fmt bench testbin deps clean help

all: build

help:
	@echo "make deps     install system packages the tests need (Debian: postgresql, prometheus)"
	@echo "make testbin  build the test programs from source into $(STOREOPS_TESTBIN_DIR)"
	@echo "make build    build the workspace"
	@echo "make test     lint, unit and integration tests (real PostgreSQL, promtool, Prometheus, OTel Collector)"
	@echo "make bench    store-service throughput with telemetry on and off -> docs/benchmarks.md"

build:
	$(CARGO) build --workspace --bins

deps:
	bash .ci/install-deps.sh

testbin:
	bash testbin/install.sh otelcol >/dev/null

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The integration tests find the collector through OTELCOL_BIN.
test: testbin lint
	OTELCOL_BIN="$$(bash testbin/install.sh otelcol)" $(CARGO) test --workspace

unit:
	$(CARGO) test --workspace --lib --bins

fmt:
	$(CARGO) fmt --all

bench: testbin
	$(CARGO) build --release -p store-service
	OTELCOL_BIN="$$(bash testbin/install.sh otelcol)" bash store-service/bench/run.sh

clean:
	$(CARGO) clean
