#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, Clang 14, ASan + UBSan) in
# build/fuzz and runs one on its seed corpus for N seconds; exits non-zero
# on a crash, a leak, a UBSan report or a broken invariant (libFuzzer
# stops at the first and writes the input to build/fuzz/artifacts/).
# Usage: tools/fuzz.sh [seconds] [target]   (defaults: 60 http_request_fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
target="${2:-http_request_fuzz}"
corpus_name="${target%_fuzz}"          # http_request_fuzz -> tests/fuzz/corpus/http_request
seeds="tests/fuzz/corpus/${corpus_name}"
build=build/fuzz
[[ -d "$seeds" ]] || { echo "fuzz: no seed corpus at $seeds" >&2; exit 2; }

tools/setup.sh
# fuzzer-no-link on every object: corio's HTTP glue and llhttp report
# coverage to libFuzzer; the target itself links libFuzzer's main.
cmake -S . -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link \
  -DCORIO_SANITIZER=address -DCORIO_BUILD_FUZZ=ON -DCORIO_BUILD_TESTS=ON \
  -DCORIO_BUILD_BENCH=OFF -DCORIO_BUILD_TOOLS=OFF -DCORIO_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target "$target"

# Runs grow the corpus they are given: give them a copy, not the repository's.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$seeds" "$work/corpus"
mkdir -p "$build/artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
# -rss_limit_mb: a request path that hoards memory fails too.
"$build/bin/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$build/artifacts/" -print_final_stats=1 "$work/corpus"
echo "fuzz: $target ran ${seconds} s without a crash, leak or report"
