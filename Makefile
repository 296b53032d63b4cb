# Data Kernel — build, test, run. Every target works on a fresh Debian machine: missing packages
# are installed and local Redis/Postgres are started under ./.run/ by .ci/services.
#
#   make run     build (release), start local services, migrate, build plugins, run the kernel
#   make test    start local services and a local Redis Cluster, build plugins and tests, run every test
#   make build   release build; the daemon lands at bin/kernel
#   make plugins every example plugin .so into ./plugins (PLUGIN_CONFIG=debug|release)
#   make bench   benchmarks (print numbers; never part of `make test`)
#   make demo    services, kernel, example producer approved by an admin, events for 20 s, results
#   make fuzz    bounded-time fuzzing of every parser of untrusted bytes (FUZZ_SECONDS per target)
#   make hiredis1-check  build hiredis 1.2.0 with TLS, the kernel and tests against it, run the Redis suites
#   make clean   remove build outputs (not ./.run)

SHELL := /bin/bash
CONFIG ?= config/kernel.yaml
PLUGIN_DIR ?= plugins
PLUGIN_CONFIG ?= release
SWIFT ?= swift
CC ?= cc
SWIFT_PLUGINS := TradePlugin BookPlugin BarPlugin
# Plugins build against the standalone SDK package (sdk/), as an author's plugin does.
ABI_INCLUDE := sdk/Sources/KernelPluginABI/include
C_PLUGIN_FLAGS := -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -I $(ABI_INCLUDE) \
	-Wl,--version-script=sdk/plugin-exports.map
SERVICES := .ci/services
# Only the dev config gets local services; any other config points at real ones.
LOCAL_SERVICES := $(if $(filter config/kernel.yaml,$(CONFIG)),yes,)

.PHONY: all build plugins c-plugins swift-plugins test run services services-down cluster bench bench-compare fuzz demo clean deps dev-keys \
	hiredis1 hiredis1-check

all: build

deps:
	@$(SERVICES) deps

build: deps
	$(SWIFT) build -c release --product kernel
	@mkdir -p bin
	@cp "$$($(SWIFT) build -c release --show-bin-path)/kernel" bin/kernel
	@echo "built bin/kernel"

swift-plugins:
	@mkdir -p $(PLUGIN_DIR)
	@for p in $(SWIFT_PLUGINS); do \
		$(SWIFT) build --package-path Plugins -c $(PLUGIN_CONFIG) --product $$p || { \
			echo "retrying $$p from a clean Plugins/.build (SwiftPM keeps a stale build description when an SDK target changes language)"; \
			rm -rf Plugins/.build; \
			$(SWIFT) build --package-path Plugins -c $(PLUGIN_CONFIG) --product $$p; } || exit 1; \
	done
	@bin="$$($(SWIFT) build --package-path Plugins -c $(PLUGIN_CONFIG) --show-bin-path)"; \
	for p in $(SWIFT_PLUGINS); do \
		install -m 0644 "$$bin/lib$$p.so" "$(PLUGIN_DIR)/.lib$$p.so.tmp" && \
		mv -f "$(PLUGIN_DIR)/.lib$$p.so.tmp" "$(PLUGIN_DIR)/lib$$p.so" || exit 1; \
	done

# The C example is built from the header alone, as any third-party C plugin would be.
c-plugins:
	@mkdir -p $(PLUGIN_DIR)
	$(CC) $(C_PLUGIN_FLAGS) -o $(PLUGIN_DIR)/.libquote.so.tmp Plugins/Quote/quote.c
	@mv -f $(PLUGIN_DIR)/.libquote.so.tmp $(PLUGIN_DIR)/libquote.so

plugins: deps swift-plugins c-plugins
	@ls -1 $(PLUGIN_DIR)/*.so

services:
	@$(SERVICES) up >/dev/null

services-down:
	@$(SERVICES) down
	@.ci/redis-cluster down

# The 3-master Redis Cluster (+3 replicas) on 127.0.0.1:17100-17105 that the cluster tests use.
cluster:
	@.ci/redis-cluster up >/dev/null

# Development CAs (producers, admins) and the token issuer key (ssh-keygen), under ./.run/ca.
dev-keys:
	@mkdir -p .run/ca && chmod 700 .run/ca
	@[ -f .run/ca/producer_ca ] || ssh-keygen -q -t ed25519 -N '' -C datakernel-dev-producer-ca -f .run/ca/producer_ca
	@[ -f .run/ca/admin_ca ] || ssh-keygen -q -t ed25519 -N '' -C datakernel-dev-admin-ca -f .run/ca/admin_ca
	@[ -f .run/ca/issuer ] || ssh-keygen -q -t ed25519 -N '' -C datakernel-dev-token-issuer -f .run/ca/issuer

run: build
	@if [ -n "$(LOCAL_SERVICES)" ]; then $(SERVICES) up >/dev/null && $(MAKE) --no-print-directory dev-keys; fi
	@$(MAKE) --no-print-directory plugins PLUGIN_CONFIG=release >/dev/null
	@set -a; [ -z "$(LOCAL_SERVICES)" ] || source .run/env; set +a; \
		bin/kernel migrate --config $(CONFIG) && exec bin/kernel run --config $(CONFIG)

test: deps services cluster
	@$(MAKE) --no-print-directory plugins PLUGIN_CONFIG=debug PLUGIN_DIR=.build/test-plugins >/dev/null
	$(SWIFT) build --build-tests
	$(SWIFT) build --product kernel
	@set -a; source .run/env; set +a; \
		DK_KERNEL_BIN="$$($(SWIFT) build --show-bin-path)/kernel" DK_TEST_PLUGINS_DIR="$(CURDIR)/.build/test-plugins" $(SWIFT) test --skip-build

# hiredis 1.x with TLS (docs/platform-notes.md, "hiredis 0.14 and 1.x"). `make hiredis1` builds the
# pinned release from its tarball (checked by sha256) into HIREDIS1_PREFIX; `make hiredis1-check`
# builds the kernel and the tests against it with TLS (a scratch path of their own, .build stays
# as it is) and runs the Redis suites, TLS against a real redis-server included, and the
# config checks of redis.tls. The tarball is upstream v1.2.0 as Debian ships it (orig.tar.gz).
HIREDIS1_VERSION := 1.2.0
HIREDIS1_SHA256 := 82ad632d31ee05da13b537c124f819eb88e18851d9cb0c30ae0552084811588c
HIREDIS1_URL ?= https://deb.debian.org/debian/pool/main/h/hiredis/hiredis_$(HIREDIS1_VERSION).orig.tar.gz
HIREDIS1_WORK := $(CURDIR)/.build-hiredis1
HIREDIS1_PREFIX ?= $(HIREDIS1_WORK)/prefix
HIREDIS1_SWIFT := $(SWIFT) build --scratch-path $(HIREDIS1_WORK)/swift
HIREDIS1_ENV := DK_HIREDIS_PREFIX=$(HIREDIS1_PREFIX) DK_HIREDIS_SSL=1

hiredis1: $(HIREDIS1_PREFIX)/lib/libhiredis_ssl.so

$(HIREDIS1_PREFIX)/lib/libhiredis_ssl.so:
	@mkdir -p $(HIREDIS1_WORK)
	@[ -f $(HIREDIS1_WORK)/hiredis-$(HIREDIS1_VERSION).tar.gz ] || { \
		curl -fsSL -o $(HIREDIS1_WORK)/hiredis-$(HIREDIS1_VERSION).tar.gz.part "$(HIREDIS1_URL)" && \
		mv -f $(HIREDIS1_WORK)/hiredis-$(HIREDIS1_VERSION).tar.gz.part $(HIREDIS1_WORK)/hiredis-$(HIREDIS1_VERSION).tar.gz; }
	@echo "$(HIREDIS1_SHA256)  $(HIREDIS1_WORK)/hiredis-$(HIREDIS1_VERSION).tar.gz" | sha256sum -c --quiet -
	@rm -rf $(HIREDIS1_WORK)/src && mkdir -p $(HIREDIS1_WORK)/src
	@tar xzf $(HIREDIS1_WORK)/hiredis-$(HIREDIS1_VERSION).tar.gz -C $(HIREDIS1_WORK)/src --strip-components=1
	$(MAKE) --no-print-directory -s -C $(HIREDIS1_WORK)/src USE_SSL=1 PREFIX=$(HIREDIS1_PREFIX) install >/dev/null
	@echo "hiredis $(HIREDIS1_VERSION) with TLS in $(HIREDIS1_PREFIX)"

hiredis1-check: deps services hiredis1
	$(HIREDIS1_ENV) $(HIREDIS1_SWIFT) --build-tests
	$(HIREDIS1_ENV) $(HIREDIS1_SWIFT) --product kernel
	@set -a; source .run/env; set +a; bin="$$($(HIREDIS1_ENV) $(HIREDIS1_SWIFT) --show-bin-path)"; \
		"$$bin/kernel" config check --config config/kernel.yaml >/dev/null && \
		ldd "$$bin/kernel" | grep -q "libhiredis_ssl\.so[.0-9]* => $(HIREDIS1_PREFIX)/lib" && \
		! ldd "$$bin/kernel" | grep -q "libhiredis\.so\.0" && \
		DK_KERNEL_BIN="$$bin/kernel" "$$bin/DataKernelPackageTests.xctest" --testing-library swift-testing \
			--filter 'KernelRedisTests\.(ReplyArenaTests|SubscribedConnectionTests|HiredisShimTests|RedisTLSTests|ClusterParsingTests)|KernelConfigTests\.RedisTLSConfigTests|OperationsProcessTests/redisTLS'

# Flags for kernel-bench, e.g. BENCH_FLAGS="--backlog 5000000" (docs/verification.md lists them).
BENCH_FLAGS ?=
bench: deps services
	@$(MAKE) --no-print-directory plugins PLUGIN_CONFIG=release >/dev/null
	$(SWIFT) build -c release --product kernel
	$(SWIFT) build -c release --product kernel-bench
	@set -a; source .run/env; set +a; bin="$$($(SWIFT) build -c release --show-bin-path)"; \
		"$$bin/kernel-bench" all --plugins $(PLUGIN_DIR) --kernel "$$bin/kernel" $(BENCH_FLAGS)

# `make bench-compare BASE=<git rev>`: the kernel at BASE (A) against this tree's (B), the trade
# drain and the 10k/s latency run in COMPARE_BLOCKS blocks of A B B A, with the means and B/A
# (kernel-bench's compare scenario; docs/verification.md, "Two per-event cuts, and the order of
# an A/B pair"). BASE is built in a scratch worktree under .build-compare/ (a cold release build
# the first time); COMPARE_FLAGS go to kernel-bench, e.g. "--trade-events 400000 --seconds 15".
BASE ?= HEAD
COMPARE_BLOCKS ?= 2
COMPARE_FLAGS ?= --trade-events 400000 --seconds 15
bench-compare: deps services
	@$(MAKE) --no-print-directory plugins PLUGIN_CONFIG=release >/dev/null
	$(SWIFT) build -c release --product kernel
	$(SWIFT) build -c release --product kernel-bench
	@git worktree remove --force .build-compare/src 2>/dev/null || true; git worktree prune
	git worktree add --detach .build-compare/src "$(BASE)" >/dev/null
	cd .build-compare/src && $(SWIFT) build -c release --product kernel --scratch-path ../build
	@set -a; source .run/env; set +a; bin="$$($(SWIFT) build -c release --show-bin-path)"; \
		status=0; "$$bin/kernel-bench" ingest --only compare --plugins $(PLUGIN_DIR) --kernel .build-compare/build/release/kernel \
		--compare-kernel "$$bin/kernel" --compare-blocks $(COMPARE_BLOCKS) $(COMPARE_FLAGS) || status=$$?; \
		git worktree remove --force .build-compare/src; exit $$status

# `make demo`: the end-to-end tour (examples/demo.sh); DEMO_SECONDS and DEMO_RATE adjust it.
demo: deps
	@examples/demo.sh

# `make fuzz`: bounded-time fuzzing of every parser of untrusted bytes (docs/fuzzing.md).
# FUZZ_SECONDS per target; FUZZ_ARGS e.g. "--seed 7" or "--stats". Failures land in .fuzz-failures/.
FUZZ_SECONDS ?= 20
FUZZ_TARGETS ?= cert token canonical event config
FUZZ_ARGS ?=

fuzz:
	$(SWIFT) build -c release --product kernel-fuzz
	@bin="$$($(SWIFT) build -c release --show-bin-path)"; status=0; \
	for t in $(FUZZ_TARGETS); do \
		"$$bin/kernel-fuzz" $$t --seconds $(FUZZ_SECONDS) $(FUZZ_ARGS) || status=1; \
	done; \
	exit $$status

clean:
	rm -rf .build bin $(PLUGIN_DIR)
