# The two commands of the README, and a few more.
#   make run     install what is missing, build, run the demo
#   make check   install what is missing, build, run every test, then the
#                unit and server tests again under AddressSanitizer + UBSan,
#                and the fuzz targets briefly when clang is present
#   make bench   run the benchmarks under bench/
#   make build   just build (release)

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 10
CTEST = ctest --output-on-failure -j $(JOBS)

.PHONY: all build run check bench deps deps-run clean style

all: build

deps:
	@scripts/install-deps
	@scripts/install-npm --all

deps-run:
	@scripts/install-deps --run
	@scripts/install-npm

build/release/CMakeCache.txt:
	@scripts/install-npm
	cmake --preset release

build: build/release/CMakeCache.txt
	@scripts/install-npm
	cmake --build --preset release -j $(JOBS)

run: deps-run build
	./build/release/recsys demo

style:
	@tools/checkstyle.sh

check: deps style build
	cd build/release && $(CTEST)
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	cd build/asan && $(CTEST) -L 'unit|conformance|fuzz|server'
	tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS)

bench: deps build
	@scripts/install-deps --bench
	bench/run.sh build/release
	bench/serve/run.sh build/release/recsys
	node bench/ui/first-render.mjs build/release/recsys

clean:
	rm -rf build
