#!/usr/bin/env bash
# Packs what tools/corio-bench/scaling.sh needs into one folder (default
# peers-bin/, git-ignored), for a machine that has no toolchain: the script,
# corio-bench, the peers' Tokio and oneTBB programs, and the shared
# libraries they load that are not glibc's own (found with ldd). Build
# first: cmake --build --preset release --target corio-bench, and
# ../shared/peers/run --workers 1 --reps 1 --only fib tokio tbb (which
# builds the peers into ~/.cache/corio-peers).
#
#   tools/corio-bench/pack-scaling.sh [DIR]
#
# Then, on the other machine, from the repository root: bash DIR/scaling.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${PEERS_CACHE:-$HOME/.cache/corio-peers}
DIR=${1:-$REPO/peers-bin}
BINS=("$REPO/build/release/bin/corio-bench" "$CACHE/tokio/target/release/peers-tokio" "$CACHE/tbb/peers-tbb")
for b in "${BINS[@]}"; do
  [[ -x $b ]] || { echo "pack-scaling: missing $b (see the comment at the top)" >&2; exit 2; }
done
rm -rf "$DIR" && mkdir -p "$DIR/lib"
cp "$HERE/scaling.sh" "$DIR/"
for b in "${BINS[@]}"; do
  cp "$b" "$DIR/"
  # Libraries outside glibc (libc, libm, the loader and vdso stay the target's own).
  ldd "$b" | awk '$3 ~ /^\// {print $3}' | grep -v -E '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so' |
    while read -r lib; do cp -L "$lib" "$DIR/lib/"; done
done
du -sh "$DIR" >&2
