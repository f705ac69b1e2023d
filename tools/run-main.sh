#!/usr/bin/env bash
# Sets up, builds the Release preset, runs corio-bench on a small workload
# and one example: the quickest end-to-end look at corio working.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
cmake --preset release
cmake --build --preset release -j"$(nproc)"

bin=build/release/bin   # CMAKE_RUNTIME_OUTPUT_DIRECTORY of the top project
echo "==> corio-bench --workers 2 --reps 3 --table"
"$bin/corio-bench" --workers 2 --reps 3 --table

echo "==> example_hello_world"
"$bin/example_hello_world"
