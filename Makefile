# reconcile — build, test, demo, benchmark.
SWIFT ?= swift
PREFIX ?= /usr/local
DEMO_ROOT ?= $(CURDIR)/.demo-root
BENCH_DIR ?= /tmp/reconcile-bench

.PHONY: deps test-deps build release test demo bench fuzz install format clean

# Debian packages the build links against (installed when missing and running as root).
deps:
	@Scripts/install-deps.sh

# The build's packages, and the Python packages the tests run real servers and clients with.
test-deps:
	@Scripts/install-deps.sh --test

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Builds everything (the e2e tests run the built binary) and runs every test.
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The offline quickstart: validate, plan, apply, status and a second apply for
# Examples/quickstart on a scratch root with the embedded SQLite registry. Nothing outside
# $(DEMO_ROOT) is written, and it starts empty each time.
DEMO_FLAGS = --desired Examples/quickstart --root $(DEMO_ROOT) --node demo
demo: build
	@rm -rf $(DEMO_ROOT)
	@echo '$$ reconcile validate Examples/quickstart'
	@$(SWIFT) run -q reconcile validate Examples/quickstart
	@echo
	@echo '$$ reconcile plan $(DEMO_FLAGS)'
	@$(SWIFT) run -q reconcile plan $(DEMO_FLAGS)
	@echo
	@echo '$$ reconcile apply --auto-approve $(DEMO_FLAGS)'
	@$(SWIFT) run -q reconcile apply --auto-approve $(DEMO_FLAGS)
	@echo
	@echo '$$ reconcile status $(DEMO_FLAGS)'
	@$(SWIFT) run -q reconcile status $(DEMO_FLAGS)
	@echo
	@echo '$$ reconcile apply --auto-approve $(DEMO_FLAGS)'
	@$(SWIFT) run -q reconcile apply --auto-approve $(DEMO_FLAGS)

# Prints timings; never a pass/fail test.
bench: release
	@Scripts/bench.sh $(BENCH_DIR)
	@Scripts/bench-apply.sh $(BENCH_DIR)
	@Scripts/bench-tenants.sh $(BENCH_DIR)
	@Scripts/bench-fleet.sh $(BENCH_DIR)
	@Scripts/bench-cdn.sh $(BENCH_DIR)

# libFuzzer on the YAML and TOML readers and the loader, for FUZZ_SECONDS (default 60); built
# apart from the main build (.build-fuzz/), never by `make test` or CI.
FUZZ_SECONDS ?= 60
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) Scripts/fuzz.sh

install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/reconcile" $(DESTDIR)$(PREFIX)/bin/reconcile

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build .build-fuzz $(DEMO_ROOT)
