#!/usr/bin/env bash
# Regenerates the tracing picture linked from the README: runs corio-bench's
# skynet workload on 2 workers with CORIO_TRACE set, and renders the trace with
# tools/corio-trace into docs/trace/skynet-2-workers.svg (timeline) and
# docs/trace/skynet-2-workers.txt (summary).
# Usage: tools/docs/trace-picture.sh [BIN_DIR]   (default: build/release/bin)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/release/bin}
out=$root/docs/trace
mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
trace=$scratch/skynet-2-workers.json

command=(corio-bench --only skynet --workers 2 --reps 1)
CORIO_TRACE=$trace "$bin/${command[0]}" "${command[@]:1}" > "$scratch/bench.tsv"
{
  echo "# CORIO_TRACE=skynet-2-workers.json ${command[*]}, $(date -u +%Y-%m-%d)"
  sed 's/^/# /' "$scratch/bench.tsv"
  "$root/tools/corio-trace/corio-trace" "$trace" --svg "$out/skynet-2-workers.svg"
} > "$out/skynet-2-workers.txt"
echo "wrote $out/skynet-2-workers.svg ($(wc -c < "$out/skynet-2-workers.svg") bytes) and $out/skynet-2-workers.txt"
