#!/usr/bin/env bash
# Sets up, builds and runs every test in the builds CI requires
# (STYLE.md "Tests"): Release (GCC 12), ASan+UBSan (Clang 14, -O1), TSan (Clang 14),
# Release (Clang 16: DESIGN.md's second compiler, whose coroutines differ),
# then 60 s of libFuzzer on the HTTP request path (tools/fuzz.sh).
# Usage: tools/test.sh [preset...]   (default: release asan tsan clang-release)
set -euo pipefail
cd "$(dirname "$0")/.."

# Sanitizer runtime options: stop at the first report so ctest sees a
# failure; the second stack makes TSan lock-order reports readable.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1 second_deadlock_stack=1}"

jobs="$(nproc)"
stage() {  # stage <name> <command...>: run and print its elapsed time
  local name="$1"; shift
  local t0=$SECONDS
  echo "==> ${name}"
  "$@"
  echo "<== ${name}: $((SECONDS - t0)) s"
}

total0=$SECONDS
stage setup tools/setup.sh
presets=("$@")
fuzz=0
if ((${#presets[@]} == 0)); then
  presets=(release asan tsan clang-release)
  fuzz=1   # the full run also fuzzes the HTTP request path (issue 6: 60 s in CI)
fi
for p in "${presets[@]}"; do
  stage "${p}: configure" cmake --preset "$p"
  stage "${p}: build"     cmake --build --preset "$p" -j"$jobs"
  stage "${p}: test"      ctest --preset "$p"
done
if ((fuzz)); then
  stage "fuzz: http_request_fuzz" tools/fuzz.sh "${CORIO_FUZZ_SECONDS:-60}" http_request_fuzz
  presets+=(fuzz)
fi
echo "all tests passed (${presets[*]}) in $((SECONDS - total0)) s"
