# ONVM build targets. One target per concern, each documented here; keep it
# tidy when adding yours.

GO ?= go

# Sample programs, built for the node as WASI reactors (wasip1 c-shared):
# _initialize runs the Go runtime and package inits, onvm_main is the
# entrypoint. The flags make the build reproducible (no paths, no build id,
# no VCS stamp), so the committed .wasm files can be checked against their
# sources: `go test ./examples` fails when they drift.
EXAMPLES := echo kvstore analytics job-test
WASM_BUILD := GOOS=wasip1 GOARCH=wasm $(GO) build -trimpath -buildvcs=false \
	-buildmode=c-shared -ldflags='-s -w -buildid='

.PHONY: examples
examples: ## build examples/<name>/<name>.wasm for every sample program
	@set -e; for e in $(EXAMPLES); do \
		$(WASM_BUILD) -o examples/$$e/$$e.wasm ./examples/$$e; \
		echo "examples/$$e/$$e.wasm $$(wc -c < examples/$$e/$$e.wasm) bytes"; \
	done

.PHONY: test-guest
test-guest: ## test the guest SDK and the samples (native, then as wasm under wazero)
	$(GO) test -race ./guest/... ./examples/...

.PHONY: bench
bench: ## every performance target's benchmark with its same-run baseline (bench/all.sh; README "Performance")
	bench/all.sh

.PHONY: bench-blob
bench-blob: ## blob upload/download vs dd, b3sum and cat on this machine; peak RSS during a 1 GiB upload
	$(GO) run ./bench/blobbench

.PHONY: test
test: ## the whole suite exactly as CI runs it
	.ci/run
