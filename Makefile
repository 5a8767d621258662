# The README's two commands, `make run` and `make test`, and a few helpers.
SHELL := /bin/bash
JOBS ?= 2
RELEASE_DIR := build/release
TEST_DIR := build/asan
CMAKE_GEN := -G Ninja

# make run ARGS="--http-listen 127.0.0.1:0": more flags for `switchboard serve --demo`.
ARGS ?=

# make install [PREFIX=/usr/local] [DESTDIR=staging dir]: the binary, the systemd unit, the
# service user (sysusers.d) and, unless one is there, /etc/switchboard/switchboard.toml.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
CONFDIR ?= /etc/switchboard

# make fuzz-long [FUZZ_SECONDS=3600] [FUZZ_TARGETS="fuzz_sdp fuzz_ws_frames"]: every fuzz target
# for FUZZ_SECONDS each from random seeds, the run before a release (tests/fuzz/README.md).
FUZZ_SECONDS ?= 3600
FUZZ_TARGETS ?=
# Its own clang build rather than the one nested in TEST_DIR: a long run then never shares a build
# tree with a `make test` going on at the same time, and needs none of the GCC ASan build.
FUZZ_DIR := build/fuzz

.PHONY: run test fuzz-long deps deps-run release asan install uninstall format tidy bench clean

# Installs only what building and running need; the test tools come with `make test`.
run: deps-run release
	./$(RELEASE_DIR)/src/switchboard serve --demo $(ARGS)

test: deps asan
	cd $(TEST_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 600

# Runs every target whatever the others find; a finding becomes a regression seed in the target's
# corpus (tests/fuzz/corpus/), which `make test` then replays, and fails the run.
fuzz-long: deps
	FUZZ_TARGETS='$(FUZZ_TARGETS)' tests/fuzz/run_fuzzers.sh $(FUZZ_SECONDS) $(FUZZ_DIR)

deps:
	@./scripts/install-deps test

deps-run:
	@./scripts/install-deps run

# Precompiled header and unity batches (cmake/BuildSpeed.cmake): a cold build in a few minutes.
release:
	cmake -S . -B $(RELEASE_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DSB_TESTS=OFF >/dev/null
	cmake --build $(RELEASE_DIR) -j$(JOBS)

# One compile per source (clang-tidy and the module-boundary check read them); warnings are errors.
asan:
	cmake -S . -B $(TEST_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSB_SANITIZE=ON -DSB_WERROR=ON >/dev/null
	cmake --build $(TEST_DIR) -j$(JOBS)

# The configuration is root's and readable by the service's group (it may hold SIP passwords);
# under DESTDIR (a package's staging tree) the packager sets that group.
install: release
	install -D -m 0755 $(RELEASE_DIR)/src/switchboard $(DESTDIR)$(BINDIR)/switchboard
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/bin/switchboard|$(BINDIR)/switchboard|' dist/switchboard.service \
	  > $(DESTDIR)$(UNITDIR)/switchboard.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/switchboard.service
	install -D -m 0644 dist/switchboard.sysusers $(DESTDIR)$(SYSUSERSDIR)/switchboard.conf
	@if [[ -z "$(DESTDIR)" ]] && command -v systemd-sysusers >/dev/null; then \
	  systemd-sysusers $(SYSUSERSDIR)/switchboard.conf; fi
	@if [[ -e $(DESTDIR)$(CONFDIR)/switchboard.toml ]]; then \
	  echo "install: kept the existing $(DESTDIR)$(CONFDIR)/switchboard.toml"; \
	else \
	  install -D -m 0640 dist/switchboard.toml $(DESTDIR)$(CONFDIR)/switchboard.toml && \
	  if [[ -z "$(DESTDIR)" ]] && getent group switchboard >/dev/null; then \
	    chgrp switchboard $(CONFDIR)/switchboard.toml; fi; \
	fi
	@[[ -n "$(DESTDIR)" ]] || echo "install: start it with" \
	  "systemctl daemon-reload && systemctl enable --now switchboard"

# Leaves the configuration, the data in /var/lib/switchboard and the service user in place.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/switchboard $(DESTDIR)$(UNITDIR)/switchboard.service \
	  $(DESTDIR)$(SYSUSERSDIR)/switchboard.conf
	@echo "uninstall: kept $(DESTDIR)$(CONFDIR) and /var/lib/switchboard"

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

tidy:
	scripts/tidy $(TEST_DIR) --all

clean:
	rm -rf build
