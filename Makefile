# p2pa — build, test, demo. Every target installs what it needs and is missing.
SHELL := /bin/bash
GO ?= go
BIN := bin
APT_PKGS := libxrandr-dev libxcursor-dev libxinerama-dev libxi-dev libxxf86vm-dev \
            libgl1-mesa-dev pkg-config xvfb xdotool qemu-user-static
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

.PHONY: all build deps test test-short vet demo bench fuzz cross golden clean

all: build

# deps installs the Debian packages ebiten and the window tests need (only the missing ones)
# and staticcheck. It needs root (or sudo) only when something is missing.
deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@[ -x $(STATICCHECK) ] || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

build:
	$(GO) build -o $(BIN)/ ./cmd/...

vet: deps
	$(GO) vet ./...
	$(STATICCHECK) ./...

# test is the project's one test command (CI runs it through .ci/run). Packages that link
# ebiten need an X server, so the run goes through xvfb-run when no display is set.
test: deps vet
	@if [ -z "$$DISPLAY" ]; then X="xvfb-run -a -s '-screen 0 1280x1024x24'"; else X=""; fi; \
	eval $$X $(GO) test -race -timeout 30m ./...

test-short:
	$(GO) test -short ./...

clean:
	rm -rf $(BIN)
