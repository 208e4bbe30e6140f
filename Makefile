# silica — top-level entry points.  `make run` and `make test` are the two set-up commands.
BUILD ?= build
ASAN_BUILD ?= build-asan
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= $(if $(CI),-DSILICA_WERROR=ON,)

.PHONY: all deps build run test test-quick test-asan test-full refit bench validate clean format fuzz fuzz-deps install screenshots

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

# The full tier: the quick tests and the longer ones (browser, install, sweep resume and MPI,
# numerics example); tests whose optional program is missing are skipped.
test-full: build
	cd $(BUILD) && ctest -L 'quick|full' --output-on-failure -j $(JOBS)

# Installs the library (shared and static), silica.h, silica.pc, the program and silica(1) under
# $(DESTDIR)$(PREFIX) (docs/reports.md "Installing").
PREFIX ?= /usr/local
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# Regenerates the report screenshots of the README (docs/img/report-*.png) with the browser test.
screenshots: build
	python3 tests/report_browser.py $(BUILD)/silica docs/img

bench: build
	@for b in $(BUILD)/bench_*; do $$b; done
	@bench/sweep_mpi.sh $(BUILD)/silica 2 || true

# After a change to the model: refit the stacks' fitted figures, the residuals behind results'
# intervals and docs/validation.md from the shared validation cases (scripts/refit).
refit: build
	./scripts/refit $(BUILD)

validate: build
	$(BUILD)/silica validate ../shared/validation/public.yaml

# Coverage-guided fuzzing with libFuzzer (clang): each target for FUZZ_SECONDS, seeded from
# fuzz/corpus/<target>; new inputs go to build-fuzz/corpus-<target>, crashes to build-fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= chip scenario cases report sweep numerics
fuzz-deps:
	@SILICA_EXTRA_PKGS="clang libclang-rt-14-dev" ./scripts/install-deps

fuzz: fuzz-deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSILICA_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) 2>&1 | grep -v '^\[' || true
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus-$$t; \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  (cd build-fuzz && ./fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
	     corpus-$$t ../fuzz/corpus/$$t ../fuzz/regressions/$$t) || exit 1; \
	done

format:
	clang-format -i include/*.h src/*.h src/*/*.[ch] tools/*/*.c tests/*.c bench/*.c

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
