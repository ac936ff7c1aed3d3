# Trueup — the two commands that matter are `make run` and `make test`.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c

# Every module of the workspace, as import-path patterns (trueup.dev/platform/... etc.).
MODULES := $(shell go list -m -f '{{.Dir}}' 2>/dev/null)
PKGS := $(shell go list -m 2>/dev/null | sed 's,$$,/...,')
# Go's test timeout for the whole run of one package.
TEST_TIMEOUT ?= 10m

.PHONY: run test lint generate check-generated fmt-check standalone fuzz bench build k8s clean tools

## run: start the whole suite in one process (embedded NATS, SQLite, demo data).
run:
	go run ./cmd/trueup dev

## build: build the trueup binary into .bin/.
build:
	go build -o .bin/trueup ./cmd/trueup

## test: every check and every module's tests with -race, on SQLite and PostgreSQL.
test: check-generated fmt-check standalone
	deploy/k8s/check.sh
	go vet $(PKGS)
	go test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)

## lint: buf lint, gofmt, go vet.
lint: fmt-check
	scripts/generate.sh --lint-only
	go vet $(PKGS)

## generate: regenerate Go, gRPC, gateway and OpenAPI code from api/proto (offline).
generate:
	scripts/generate.sh

## check-generated: fail when committed generated code differs from what the protos give.
check-generated:
	scripts/check-generated.sh

fmt-check:
	@out=$$(gofmt -l $(MODULES) | grep -v '/gen/' || true); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## standalone: every module also builds outside the workspace (per-service container builds).
standalone:
	@for d in $(MODULES); do (cd $$d && GOWORK=off go build ./...) || { echo "module $$d does not build with GOWORK=off"; exit 1; }; done

## fuzz: a longer fuzz run of the gateway's JSON bodies (its seed corpus runs with every make test).
fuzz:
	cd gateway && go test -run '^$$' -fuzz FuzzJSONBody -fuzztime $${FUZZTIME:-60s} .

## bench: the suite under load (trueup bench: pipeline, api, inbound, ceilings) and the Go benchmarks
## of the hot paths (ledger postings, outbox, inbox, stock), each beside a ceiling of the same run;
## results in bench-results/ (see BENCHMARKS.md). Performance is measured here, never asserted in tests.
BENCH_FLAGS ?=
bench: build
	mkdir -p bench-results
	.bin/trueup bench --out bench-results --cpuprofile bench-results/pipeline.pprof $(BENCH_FLAGS)
	go tool pprof -top -nodecount=25 .bin/trueup bench-results/pipeline.pprof > bench-results/pipeline-pprof-top.txt
	go test -run '^$$' -bench . -benchmem $(PKGS) | tee bench-results/go-bench-$$(date -u +%Y%m%dT%H%M%SZ).txt

## k8s: render the Kubernetes overlays (offline).
k8s:
	deploy/k8s/check.sh

clean:
	rm -rf .trueup .bin .third_party
