#!/usr/bin/env bash
# README command 2: install what is needed, build with ASan+UBSan and the libFuzzer targets,
# and run every test tier through ctest (unit, integration, a short fuzz run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== fuzz targets (clang-14)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

echo "== rollcall optimised (the real-time adaptation tests run against it, see tests/CMakeLists.txt)"
cmake --preset dev >/dev/null
cmake --build --preset dev --target rollcall

echo "== rollcall with AddressSanitizer and UndefinedBehaviorSanitizer"
cmake --preset asan -DROLLCALL_FUZZ_BIN_DIR="$PWD/build/fuzz" \
  -DROLLCALL_REALTIME_BIN="$PWD/build/dev/signaling/rollcall" >/dev/null
cmake --build --preset asan

echo "== tests"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --preset asan -j2 --timeout 600 "$@"
