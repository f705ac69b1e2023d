#!/usr/bin/env bash
# Sets up, builds the Release preset, runs corio-bench on a small workload
# and one example: the quickest end-to-end look at corio working.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
cmake --preset release
cmake --build --preset release -j"$(nproc)"

bin=build/release/bin   # CMAKE_RUNTIME_OUTPUT_DIRECTORY of the top project
if [[ -x "$bin/corio-bench" ]]; then
  echo "==> corio-bench --workers 2 --reps 3"
  "$bin/corio-bench" --workers 2 --reps 3
else
  echo "run-main: $bin/corio-bench not built yet (tools/corio-bench has no sources); skipping"
fi

example=example_hello_world
if [[ -x "$bin/$example" ]]; then
  echo "==> $example"
  "$bin/$example"
else
  echo "run-main: $bin/$example not built yet (no examples/hello_world.cpp); skipping"
fi
