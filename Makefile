# greenml: the two entry points are `make run` (the main job) and
# `make test` (the whole suite: strict build, ASan+UBSan, TSan, CLI, format).
# `make install [PREFIX=/usr/local] [DESTDIR=]` installs the libraries, the
# headers, the command, pkg-config and CMake files, the man page and the
# bash completion.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: run test deps build dev asan tsan clean format bench install

deps:
	@bash scripts/deps.sh

build: deps
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGREENML_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build build/release -j $(JOBS)

run: build
	bash scripts/demo.sh build/release/greenml

dev: deps
	cmake -S . -B build/dev -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS) >/dev/null
	cmake --build build/dev -j $(JOBS)

asan: deps
	cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DGREENML_SANITIZE=address,undefined $(CMAKE_FLAGS) >/dev/null
	cmake --build build/asan -j $(JOBS)

tsan: deps
	cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=Debug -DGREENML_SANITIZE=thread $(CMAKE_FLAGS) >/dev/null
	cmake --build build/tsan -j $(JOBS)

test: build dev asan tsan
	cd build/dev && ctest --output-on-failure -j $(JOBS)
	cd build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -L unit -j $(JOBS)
	cd build/tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -L unit -LE heavy -j $(JOBS)

# The release tree, configured for PREFIX (GNUInstallDirs picks the library
# directory from it), installed under DESTDIR when given; ldconfig refreshes
# the loader's cache after a real install as root.
install: deps
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGREENML_TESTS=OFF -DCMAKE_INSTALL_PREFIX="$(PREFIX)" $(CMAKE_FLAGS) >/dev/null
	cmake --build build/release -j $(JOBS)
	DESTDIR="$(DESTDIR)" cmake --install build/release
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

bench: build
	bash scripts/bench-meter.sh build/release/greenml

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
