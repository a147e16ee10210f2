# capd — one test command: `make test` (also what .ci/run runs).

GO       ?= go
NPM      ?= npm
TS_DIR   := e2e/ts
# npm writes this file into node_modules on every install: it is older than
# package-lock.json (or absent) exactly when the packages need (re)installing.
TS_STAMP := $(TS_DIR)/node_modules/.package-lock.json

.PHONY: test build run lint vet fmt-check go-test ts-deps

## test: install the TypeScript client's npm packages if needed, vet, check gofmt, run every test
test: ts-deps vet fmt-check go-test

ts-deps: $(TS_STAMP)

$(TS_STAMP): $(TS_DIR)/package.json $(TS_DIR)/package-lock.json
	$(NPM) ci --prefix $(TS_DIR) --no-audit --no-fund
	@touch $@

vet:
	$(GO) vet ./...

# Tracked and untracked-but-not-ignored Go files (so new files are checked
# before they are committed).
fmt-check:
	@files="$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go'))"; \
	if [ -n "$$files" ]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi

go-test:
	$(GO) test -count=1 -timeout 15m ./...

## build: build bin/capd
build:
	$(GO) build -o bin/capd ./cmd/capd

## run: serve the demo tenants
run:
	$(GO) run ./cmd/capd serve --demo

## lint: lint the capability manifests
lint:
	$(GO) run ./cmd/capd capabilities lint
