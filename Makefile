# Thin wrapper: the quick start of README.md. The build itself is CMake (CMakePresets.json).
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
DEMO_DIR ?= var/demo

.PHONY: all deps build build-asan build-tsan demo check clean

all: build

deps:
	@tools/setup-deps

build: deps
	cmake --preset default >/dev/null
	cmake --build --preset default -j $(JOBS)

build-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)

build-tsan: deps
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS)

# Builds, creates a demo data directory and runs veilled on 127.0.0.1:8080 in the foreground.
demo: build
	@tools/demo $(DEMO_DIR) build/default

# The whole suite under ASan/UBSan, then again on the optimised build, then the tests that run
# veilled (integration, fault) under ThreadSanitizer.
check: build-asan build build-tsan
	ctest --preset asan -j $(JOBS)
	ctest --preset default -j $(JOBS)
	ctest --preset tsan -j $(JOBS)

clean:
	rm -rf build
