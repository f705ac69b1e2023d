#!/usr/bin/env bash
# Lock and queue costs, corio next to Tokio: builds and runs bench/bm_sync
# (corio::lock, corio::queue) and bench/tokio_sync (the same cases on
# tokio::sync::Mutex and mpsc), then prints one table with corio/tokio.
#
#   bench/sync_vs_tokio.sh [--reps R]
#
# Needs the release preset configured (cmake --preset release) and, for the
# Tokio side, Debian's cargo and librust-tokio-dev (installed here if missing,
# as ../shared/peers/run does: this machine reaches no crate registry).
# stdout: the TSV lines of both sides, `runtime case workers ns_per_op value`
# (medians of R reps), then the table (Markdown). Progress goes to stderr.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
REPS=5
while (($#)); do
  case $1 in
    --reps) REPS=${2:?}; shift 2 ;;
    *) echo "usage: $0 [--reps R]" >&2; exit 2 ;;
  esac
done
log() { echo "sync_vs_tokio: $*" >&2; }

[[ -d $REPO/build/release ]] || { log "no build/release: run 'cmake --preset release' first"; exit 2; }
log "building bm_sync"
(cd "$REPO" && cmake --build --preset release --target bm_sync >&2)

# The Debian toolchain and crates, as ../shared/peers/run installs them.
if [[ ! -x /usr/bin/cargo ]] || ! compgen -G '/usr/share/cargo/registry/tokio-1.*' >/dev/null; then
  log "installing cargo and librust-tokio-dev (apt-get)"
  sudo=(); ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get install -y -qq cargo librust-tokio-dev >&2 ||
    { "${sudo[@]}" apt-get update -qq >&2 && "${sudo[@]}" apt-get install -y -qq cargo librust-tokio-dev >&2; }
fi
# Build a copy under build/ (git-ignored), so that cargo leaves no
# Cargo.lock or target/ in the source tree; its own CARGO_HOME keeps the
# user's cargo configuration out of the offline build.
TOKIO=$REPO/build/tokio_sync
log "building tokio_sync (cargo --release --offline, Debian crates) in $TOKIO"
mkdir -p "$TOKIO"
rm -rf "$TOKIO/src" "$TOKIO/.cargo"
cp -r "$HERE/tokio_sync/Cargo.toml" "$HERE/tokio_sync/src" "$HERE/tokio_sync/.cargo" "$TOKIO/"
(cd "$TOKIO" && RUSTC=/usr/bin/rustc CARGO_HOME="$TOKIO/cargo-home" CARGO_TARGET_DIR="$TOKIO/target" \
  /usr/bin/cargo build --release --offline -q >&2)

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
log "running bm_sync ($REPS reps; load: $(cut -d' ' -f1-3 /proc/loadavg))"
"$REPO/build/release/bin/bm_sync" --benchmark_repetitions="$REPS" --benchmark_report_aggregates_only=true \
  --benchmark_out="$OUT/corio.json" --benchmark_out_format=json >&2
log "running tokio_sync ($REPS reps; load: $(cut -d' ' -f1-3 /proc/loadavg))"
"$TOKIO/target/release/tokio_sync" --reps "$REPS" >"$OUT/tokio.tsv"

python3 - "$OUT/corio.json" "$OUT/tokio.tsv" <<'EOF'
import json, sys

# corio: the median aggregate of each case; per_op is in seconds (an
# inverted rate, see bench/bm_common.hpp), the name is "BM_<case>/real_time".
corio = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    case = b["run_name"].removeprefix("BM_").removesuffix("/real_time")
    corio[case] = (int(b["workers"]), b["per_op"] * 1e9, int(b["value"]))
tokio = {}
for line in open(sys.argv[2]):
    _, case, workers, ns, value = line.rstrip("\n").split("\t")
    tokio[case] = (int(workers), float(ns), int(value))

for case, (w, ns, v) in corio.items():
    print(f"corio\t{case}\t{w}\t{ns:.1f}\t{v}")
for case, (w, ns, v) in tokio.items():
    print(f"tokio\t{case}\t{w}\t{ns:.1f}\t{v}")

print()
print("| case | workers | corio ns/op | tokio ns/op | corio/tokio |")
print("|---|---:|---:|---:|---:|")
status = 0
for case in list(corio) + [c for c in tokio if c not in corio]:
    c, t = corio.get(case), tokio.get(case)
    if c and t and (c[0], c[2]) != (t[0], t[2]):
        # Same case, different workers or answer: the twins drifted apart.
        print(f"sync_vs_tokio: {case}: corio {c}, tokio {t} differ in shape", file=sys.stderr)
        status = 1
    w = (c or t)[0]
    cn = f"{c[1]:.1f}" if c else "-"
    tn = f"{t[1]:.1f}" if t else "-"
    ratio = f"{c[1] / t[1]:.2f}" if c and t else "-"
    print(f"| {case} | {w} | {cn} | {tn} | {ratio} |")
sys.exit(status)
EOF
