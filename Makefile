# The README's two commands, `make run` and `make test`, and a few helpers.
SHELL := /bin/bash
JOBS ?= 2
RELEASE_DIR := build/release
TEST_DIR := build/asan
CMAKE_GEN := -G Ninja

# make run ARGS="--http-listen 127.0.0.1:0": more flags for `switchboard serve --demo`.
ARGS ?=

.PHONY: run test deps deps-run release asan format tidy bench clean

# Installs only what building and running need; the test tools come with `make test`.
run: deps-run release
	./$(RELEASE_DIR)/src/switchboard serve --demo $(ARGS)

test: deps asan
	cd $(TEST_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 600

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

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

tidy:
	scripts/tidy $(TEST_DIR) --all

clean:
	rm -rf build
