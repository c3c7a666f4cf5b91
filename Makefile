# Every target has a '##' help line; `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
export PATH := $(PATH):/usr/local/go/bin:$(shell $(GO) env GOPATH 2>/dev/null)/bin
export CGO_ENABLED := 1
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN       := bin/softphone
PKGS      := ./...
# The core is tested with the race detector and a high count of random
# sequences; `make test` runs everything else with -race too.
TESTFLAGS ?= -race -count=1 -timeout 20m
STATICCHECK_VERSION := v0.6.1

.PHONY: help deps build run test test-core bench lint fmt vet staticcheck clean fuzz

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

deps: ## install build and test dependencies (apt-get on Debian/Ubuntu; prints steps on macOS/Windows)
	@scripts/deps.sh all

build: ## build bin/softphone (debug: Fyne thread checks on)
	@scripts/deps.sh build
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/softphone

run: build ## build and start the app
	./$(BIN)

test: deps ## vet and run every test with the race detector (what CI runs)
	$(GO) vet $(PKGS)
	$(GO) test $(TESTFLAGS) $(PKGS)

test-core: ## fast: the agent core only
	$(GO) test $(TESTFLAGS) ./agent/...

bench: deps ## run the benchmarks and print their figures
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $(PKGS)

fuzz: ## fuzz the core's parsers and state machine for a minute each
	$(GO) test -run '^$$' -fuzz FuzzStep -fuzztime 60s ./agent/domain
	$(GO) test -run '^$$' -fuzz FuzzNormalizeDialString -fuzztime 60s ./agent/domain

fmt: ## format the code
	gofmt -w .

vet: ## go vet
	$(GO) vet $(PKGS)

staticcheck: ## staticcheck (installed on first use)
	@command -v staticcheck >/dev/null 2>&1 || GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	staticcheck $(PKGS)

lint: vet staticcheck ## gofmt check, go vet, staticcheck
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "not gofmt'ed:"; echo "$$out"; exit 1; fi

clean: ## remove build output
	rm -rf bin dist

# Capabilities may add targets in mk/<name>.mk (help lines included).
-include $(wildcard mk/*.mk)
