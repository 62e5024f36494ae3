# The two set-up commands of the README are `make run` and `make test`; everything else is what they use.
SHELL := /bin/bash
PG_PORT ?= 5433
DATABASE_URL ?= postgres://herald@127.0.0.1:$(PG_PORT)/herald
TEST_ADMIN_URL ?= postgres://herald@127.0.0.1:$(PG_PORT)/postgres
SECRET_FILE := .data/jwt_secret

VENV := .data/venv

.PHONY: run cluster test e2e api-conformance ws-conformance fuzz build release postgres lint clean-test-databases browser-deps

## Starts PostgreSQL under .data/, migrates, prints a dev token and the ws URL, and serves on :8000.
run: release postgres
	@test -s $(SECRET_FILE) || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > $(SECRET_FILE)
	@export DATABASE_URL=$(DATABASE_URL) JWT_SECRET=$$(cat $(SECRET_FILE)); \
	  .build/release/herald migrate && \
	  token=$$(.build/release/herald token --sub dev-user --location loc-1 --role admin --ttl 86400) && \
	  echo "dev token (admin, 24 h): $$token" && \
	  echo "ws URL: ws://127.0.0.1:$${PORT:-8000}/api/v1/ws?token=$$token" && \
	  echo "try:    curl -H \"Authorization: Bearer $$token\" http://127.0.0.1:$${PORT:-8000}/api/v1/notifications" && \
	  exec .build/release/herald serve

## Two instances on :8001 and :8002 behind nginx (TLS on 443, self-signed), as in production. Stop with Ctrl-C.
cluster: release postgres
	@test -s $(SECRET_FILE) || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > $(SECRET_FILE)
	@export DATABASE_URL=$(DATABASE_URL) JWT_SECRET=$$(cat $(SECRET_FILE)) TRUSTED_PROXIES=127.0.0.1; \
	  .build/release/herald migrate && nginx/run.sh && \
	  token=$$(.build/release/herald token --sub dev-user --location loc-1 --role admin --ttl 86400) && \
	  echo "demo: https://localhost/demo#token=$$token" && \
	  trap 'nginx/run.sh stop; kill 0' INT TERM EXIT; \
	  PORT=8001 INSTANCE_ID=herald-1 .build/release/herald serve & \
	  PORT=8002 INSTANCE_ID=herald-2 .build/release/herald serve & \
	  wait

## Builds, starts PostgreSQL under .data/, and runs the whole test suite against it.
# The fault suites load both cores for a minute (1,000 sockets, real processes, PostgreSQL restarts); they run one
# at a time after the rest, so their timings and the rest's do not disturb each other.
FAULT_SUITES := RealtimeFaultTests|SlowConsumerCrowdTests|InstanceFailoverTests|ResourceExhaustionTests|RealtimeIsolationTests|ListenerStallTests|PublishStallTests

## Unit tests first (Swift and herald.js, no database, seconds), then the integration tests against PostgreSQL and
## live servers, then the fault suites one at a time.
test:
	swift build --build-tests
	swift test --skip-build --filter HeraldUnitTests
	node --test Tests/js/
	@$(MAKE) --no-print-directory postgres clean-test-databases
	HERALD_TEST_DATABASE_URL=$(TEST_ADMIN_URL) swift test --skip-build --skip HeraldUnitTests --skip '$(FAULT_SUITES)'
	HERALD_TEST_DATABASE_URL=$(TEST_ADMIN_URL) swift test --skip-build --no-parallel --filter '$(FAULT_SUITES)'

build:
	swift build

release:
	swift build -c release --product herald

postgres:
	@HERALD_PG_PORT=$(PG_PORT) .ci/postgres.sh herald

## Drops the per-test databases a previous run left behind.
clean-test-databases:
	@psql -h 127.0.0.1 -p $(PG_PORT) -U herald -d postgres -tAc \
	  "SELECT datname FROM pg_database WHERE datname LIKE 'herald\_t\_%' OR datname LIKE 'herald\_template%'" | \
	  while read -r db; do [ -n "$$db" ] && psql -h 127.0.0.1 -p $(PG_PORT) -U herald -d postgres -qc "DROP DATABASE \"$$db\" WITH (FORCE)"; done; true

## The browser end to end: nginx with TLS, two instances, Debian's Chromium on /demo (Tests/e2e/browser_demo.py).
e2e: postgres browser-deps $(VENV)/.installed
	swift build --product herald
	$(VENV)/bin/python Tests/e2e/browser_demo.py

## schemathesis against /openapi.json: at least 1,000 generated cases and no failure.
api-conformance: postgres $(VENV)/.installed
	swift build --product herald
	HERALD_VENV=$(VENV) Tests/e2e/schemathesis.sh

## The Autobahn testsuite (fuzzingclient, cases 1-10 and 12-13) against the socket stack.
ws-conformance: postgres
	swift build --product herald
	Tests/conformance/autobahn.sh

## Both libFuzzer targets for a bounded number of inputs. HERALD_FUZZ=1 instruments HeraldServer, so the next
## plain build recompiles it; .ci/run runs this last.
fuzz:
	HERALD_FUZZ=1 swift build --product herald-fuzz-frames
	HERALD_FUZZ=1 swift build --product herald-fuzz-tokens
	Tests/Fuzz/run.sh

browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v nginx >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver nginx >/dev/null; }

$(VENV)/.installed: Tests/e2e/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r Tests/e2e/requirements.txt
	@touch $@

lint:
	swift format lint --strict --recursive Sources Tests Plugins Package.swift Benchmarks/Sources Benchmarks/Tests Benchmarks/Package.swift
