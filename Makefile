# silica — top-level entry points.  `make run` and `make test` are the two set-up commands.
BUILD ?= build
ASAN_BUILD ?= build-asan
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= $(if $(CI),-DSILICA_WERROR=ON,)

.PHONY: all deps build run test test-quick test-asan bench validate clean format

all: build

deps:
	@./scripts/install-deps

$(BUILD)/Makefile: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS) 2>&1 | grep -v '^\[' || true
	@test -x $(BUILD)/silica

run: build
	@./scripts/demo $(BUILD)/silica

test-quick: build
	cd $(BUILD) && ctest -L quick --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSILICA_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS) 2>&1 | grep -v '^\[' || true
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest -L quick --output-on-failure -j $(JOBS)

test: test-quick test-asan

bench: build
	@for b in $(BUILD)/bench_*; do $$b; done

validate: build
	$(BUILD)/silica validate ../shared/validation/public.yaml

format:
	clang-format -i include/*.h src/*.h src/*/*.[ch] tools/*/*.c tests/*.c bench/*.c

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
