# p2pa — build, test, demo. Every target installs what it needs and is missing.
SHELL := /bin/bash
GO ?= go
BIN := bin
# WINDOW_PKGS are what building and running p2pa-window (ebiten on X11) needs; TEST_PKGS are
# what the tests add: an X server for the window tests, xdotool to drive them, qemu-user to
# run the arm64 determinism check, iproute2 and nftables for the network namespaces and NAT
# routers of the internet and browser tests, Chromium's headless shell for the browser
# page's tests.
# (Node, for the js/wasm determinism check, is on the machines this runs on; make cross
# installs it if not.)
WINDOW_PKGS := libxrandr-dev libxcursor-dev libxinerama-dev libxi-dev libxxf86vm-dev \
               libgl1-mesa-dev pkg-config
TEST_PKGS := xvfb xdotool qemu-user-static iproute2 nftables chromium-headless-shell
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: all build build-headless web deps deps-window install test test-short vet demo bench bench-wasm fuzz cross golden clean

all: build

# apt-install PKGS installs the missing ones of the Debian packages PKGS; it needs root (or
# sudo) only when something is missing. Without dpkg and apt-get (not Debian or Ubuntu) it
# does nothing: install the equivalents by hand.
apt-install = command -v dpkg >/dev/null && command -v apt-get >/dev/null || exit 0; \
	missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# deps-window installs what the window needs to build and run, nothing else.
deps-window:
	@$(call apt-install,$(WINDOW_PKGS))

# deps installs everything the tests need: the window's libraries, the test packages and
# staticcheck.
deps: deps-window
	@$(call apt-install,$(TEST_PKGS))
	@[ -x $(STATICCHECK) ] || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

# build puts both programs in bin/ (on Linux the window needs make deps-window first);
# build-headless only p2pa, which links no graphics and so builds without those libraries.
build:
	$(GO) build -o $(BIN)/ ./cmd/...

build-headless:
	$(GO) build -o $(BIN)/ ./cmd/p2pa

# web builds the window for browsers into bin/web/: p2pa-window.wasm (GOOS=js
# GOARCH=wasm), a gzip -9 copy of it for servers that send it compressed, the
# wasm_exec.js of the Go toolchain that built it (the two must match) and the page,
# cmd/p2pa-window/web/index.html. Serve it with p2pa -serve ADDR -web bin/web, which puts
# the page beside the rooms (one origin: the page finds its server from its own address);
# it is not embedded in the native binaries.
WEB := $(BIN)/web
web:
	@mkdir -p $(WEB)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $(WEB)/p2pa-window.wasm ./cmd/p2pa-window
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" cmd/p2pa-window/web/index.html $(WEB)/
	gzip -9 -k -f $(WEB)/p2pa-window.wasm
	@echo "web: $(WEB)/: p2pa-window.wasm $$(du -k $(WEB)/p2pa-window.wasm | cut -f1) KB, gzipped $$(du -k $(WEB)/p2pa-window.wasm.gz | cut -f1) KB"

# install puts p2pa and p2pa-window side by side in $$(go env GOBIN), or $$(go env GOPATH)/bin
# (~/go/bin) when GOBIN is unset; p2pa finds the window program beside itself.
install: deps-window
	$(GO) install ./cmd/p2pa ./cmd/p2pa-window
	@echo "installed p2pa and p2pa-window in $$(d=$$($(GO) env GOBIN); echo $${d:-$$($(GO) env GOPATH)/bin})"

# WINDOW_TAGS turns on the tests that link ebiten (game/render, cmd/p2pa-window): their
# binaries panic in ebiten's init without an X display, so they are built only when asked
# for (see game/render's package doc). vet and staticcheck see those files through it too.
WINDOW_TAGS := -tags display

vet: deps
	$(GO) vet $(WINDOW_TAGS) ./...
	GOOS=js GOARCH=wasm $(GO) vet ./cmd/p2pa-window/...
	$(STATICCHECK) $(WINDOW_TAGS) ./...

# test is the project's one test command (CI runs it through .ci/run). Packages that link
# ebiten need an X server, so the run goes through xvfb-run when no display is set, and
# their tests are built (WINDOW_TAGS).
test: deps vet cross
	@if [ -z "$$DISPLAY" ]; then X="xvfb-run -a -s '-screen 0 1280x1024x24'"; else X=""; fi; \
	eval $$X $(GO) test $(WINDOW_TAGS) -race -count=1 -timeout 30m ./...

# test-short is the quick pass: no long simulations, no window tests, and no display
# needed. It unsets DISPLAY so that it runs as on a headless machine wherever it is run.
test-short:
	env -u DISPLAY -u WAYLAND_DISPLAY $(GO) test -short -count=1 ./...

# demo opens both players' windows on this machine, connected over loopback (Esc or
# closing a window ends the match). Without a display (no DISPLAY or WAYLAND_DISPLAY) it
# plays the two peers headless with bots for 1200 frames and prints their final lines,
# whose frame and checksum must agree (rollbacks and RTT are each peer's own). It installs
# only what it runs: the window's libraries with a display, nothing without one.
DEMO_ADDR ?= 127.0.0.1:7000
demo: $(if $(strip $(DISPLAY)$(WAYLAND_DISPLAY)),deps-window build,build-headless)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "demo: player 0 listens on $(DEMO_ADDR), player 1 joins it; Esc in a window quits"; \
	  $(BIN)/p2pa -p 0 -listen $(DEMO_ADDR) & p0=$$!; \
	  $(BIN)/p2pa -p 1 -peer $(DEMO_ADDR) & p1=$$!; \
	  trap 'kill $$p0 $$p1 2>/dev/null' INT TERM; \
	  s=0; wait $$p0 || s=$$?; wait $$p1 || s=$$?; exit $$s; \
	else \
	  echo "demo: no display; two headless peers with bots play 1200 frames over $(DEMO_ADDR)"; \
	  log=$$(mktemp -d); \
	  $(BIN)/p2pa -p 0 -listen $(DEMO_ADDR) -headless -bot -frames 1200 >$$log/p0.out 2>$$log/p0.err & p0=$$!; \
	  $(BIN)/p2pa -p 1 -peer $(DEMO_ADDR) -headless -bot -frames 1200 >$$log/p1.out 2>$$log/p1.err & p1=$$!; \
	  trap 'kill $$p0 $$p1 2>/dev/null' INT TERM; \
	  s0=0; s1=0; wait $$p0 || s0=$$?; wait $$p1 || s1=$$?; \
	  echo "player 0: $$(tail -n 1 $$log/p0.out)"; \
	  echo "player 1: $$(tail -n 1 $$log/p1.out)"; \
	  if [ $$s0 != 0 ] || [ $$s1 != 0 ]; then \
	    echo "demo: a peer failed (exit $$s0, $$s1):"; cat $$log/p0.err $$log/p1.err; exit 1; \
	  fi; \
	  if [ "$$(tail -n 1 $$log/p0.out | cut -d' ' -f1,2)" != "$$(tail -n 1 $$log/p1.out | cut -d' ' -f1,2)" ]; then \
	    echo "demo: the peers disagree on the final frame or checksum"; exit 1; \
	  fi; \
	  rm -rf $$log; \
	fi

# fuzz runs every fuzz target in the repository (found by grep, so new ones are picked up)
# for FUZZTIME each, one at a time: go test -fuzz takes a single target. Minimizing a new
# interesting input is capped at FUZZMINTIME so that slow targets keep fuzzing. A failure
# stops the run and leaves the input in the package's testdata/fuzz.
FUZZTIME ?= 20s
FUZZMINTIME ?= 5s
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
	  pkg=$$(dirname $$f); \
	  for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
	    echo "fuzz: $$t in $$pkg for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINTIME) $$pkg; \
	  done; \
	done

# cross checks determinism across CPUs: the game's tests, golden checksums included, run
# natively, as 386 (natively on amd64 Linux), as arm64 under qemu-user and as js/wasm
# under Node (the toolchain's go_js_wasm_exec; Node is installed if missing), with the
# check that nothing in js/wasm opens a socket or browses mDNS (TestNoSockets); then
# everything cross-builds for Windows (ebiten needs no cgo there) and, but for the
# packages that link ebiten, for macOS on arm64, and the browser's window for js/wasm.
cross: deps
	@command -v node >/dev/null || { $(call apt-install,nodejs); }
	$(GO) test ./game/
	GOARCH=386 $(GO) test ./game/
	GOARCH=arm64 $(GO) test -exec qemu-aarch64-static ./game/
	GOOS=js GOARCH=wasm $(GO) test -exec "$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" ./game/
	GOOS=js GOARCH=wasm $(GO) test -exec "$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" -run '^TestNoSockets$$' ./internal/peer
	GOOS=js GOARCH=wasm $(GO) build -o /dev/null ./cmd/p2pa-window
	GOOS=windows GOARCH=amd64 $(GO) build ./cmd/...
	GOOS=darwin GOARCH=arm64 $(GO) build $$(GOOS=darwin GOARCH=arm64 $(GO) list -f '{{if .GoFiles}}{{.ImportPath}} {{join .Deps " "}}{{end}}' ./... | awk '!/github.com\/hajimehoshi\/ebiten/ {print $$1}')

# bench measures what issue 5 asks (handshake, input latency, frame cost with and without
# rollback, bytes on the wire, the prototype's stream, bad links; see bench/) six
# times, so that benchstat can give each figure a mean and its spread. The raw results go to
# bench/latest.txt; benchstat's table is printed, then the goals, each with its figure and
# met or not (bench/goals). Run it on an otherwise idle machine: the figures
# are wall time. benchstat is installed on first use.
BENCHSTAT := $(shell $(GO) env GOPATH)/bin/benchstat
BENCH_COUNT ?= 6
bench:
	@[ -x $(BENCHSTAT) ] || $(GO) install golang.org/x/perf/cmd/benchstat@latest
	$(GO) test ./bench -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) -timeout 30m > bench/latest.txt \
	  || { tail -n 30 bench/latest.txt; exit 1; }
	$(BENCHSTAT) bench/latest.txt
	@echo
	$(GO) run ./bench/goals bench/latest.txt

# bench-wasm is the game's frame cost in a browser's engine: BenchmarkFrame built for
# js/wasm and run under Node (V8, one thread), to set beside make bench's native figures.
bench-wasm:
	@command -v node >/dev/null || { $(call apt-install,nodejs); }
	GOOS=js GOARCH=wasm $(GO) test -exec "$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" ./bench -run '^$$' -bench '^BenchmarkFrame$$' -benchmem -count $(BENCH_COUNT) -timeout 30m

clean:
	rm -rf $(BIN)
