# The README's two commands, `make run` and `make test`, and a few helpers.
SHELL := /bin/bash
JOBS ?= 2
RELEASE_DIR := build/release
TEST_DIR := build/asan
CMAKE_GEN := -G Ninja

.PHONY: run test deps release asan format tidy bench clean

run: deps release
	./$(RELEASE_DIR)/src/switchboard serve --demo

test: deps asan
	cd $(TEST_DIR) && ctest --output-on-failure -j$(JOBS) --timeout 600

deps:
	@./scripts/install-deps

release:
	cmake -S . -B $(RELEASE_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DSB_TESTS=OFF >/dev/null
	cmake --build $(RELEASE_DIR) -j$(JOBS)

asan:
	cmake -S . -B $(TEST_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DSB_SANITIZE=ON >/dev/null
	cmake --build $(TEST_DIR) -j$(JOBS)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

tidy:
	scripts/tidy $(TEST_DIR) --all

clean:
	rm -rf build
