#!/usr/bin/env bash
# Regenerates docs/bench-report/: report.md and its SVG charts, corio beside
# the peers of ../shared/peers (Tokio, oneTBB, Go) at 1 and 2 workers, plus
# the TSV files the report was made from. Builds nothing of corio's: it needs
# build/release/bin/corio-bench (cmake --build --preset release --target
# corio-bench); the peers' runner builds its programs into
# ~/.cache/corio-peers on first use (minutes), then reuses them.
#
#   tools/docs/bench-report.sh
#
# It takes no options: it makes the committed report, with the settings
# below; for other runs use corio-bench --report and the peers' runner.
#
# The peers run first, one runtime and worker count at a time; corio-bench
# runs right after them and writes the report. A peer that cannot be built or
# run is skipped with a message (and named in the report).
# Environment: PEERS_DIR (default <repo>/../shared/peers).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PEERS_DIR=${PEERS_DIR:-$REPO/../shared/peers}
BENCH=$REPO/build/release/bin/corio-bench
OUT=$REPO/docs/bench-report
WORKERS=1,2
REPS=3
PEERS=(tokio tbb go)
# The scheduler workloads; echo and http are left out: each of their
# repetitions is a 5 s load, and on a 2-core machine the load generator
# shares the cores with the server.
ONLY=spawn_join,spawn_remote,fib,skynet,ping_pong,yield_many,chained_spawn,sleep_many,blocking_rt
(($# == 0)) || { echo "usage: $0 (no options; see the comment at its top)" >&2; exit 2; }
[[ -x $BENCH ]] || { echo "bench-report: no $BENCH; build it: cmake --build --preset release --target corio-bench" >&2; exit 2; }
[[ -x $PEERS_DIR/run ]] || { echo "bench-report: no peers runner at $PEERS_DIR/run (set PEERS_DIR)" >&2; exit 2; }

LOG=$(mktemp)
trap 'rm -f "$LOG" "$LOG.rows"' EXIT
rm -rf "$OUT" && mkdir -p "$OUT"
PEERS_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
SKIPPED=()
COMPARE=()
IFS=, read -r -a WORKER_COUNTS <<<"$WORKERS"
for n in "${WORKER_COUNTS[@]}"; do
  tsv=$OUT/peers-${n}w.tsv
  for peer in "${PEERS[@]}"; do
    echo "bench-report: $peer, $n workers, reps $REPS (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    "$PEERS_DIR/run" --workers "$n" --reps "$REPS" --only "$ONLY" "$peer" >"$LOG.rows" 2>"$LOG"
    status=$?
    if [[ ! -s $LOG.rows ]]; then
      echo "bench-report: skipping $peer at $n workers (exit $status): $(tail -3 "$LOG" | tr '\n' ' ')" >&2
      SKIPPED+=("$peer at $n workers (no result: $(tail -1 "$LOG"))")
    else
      ((status == 0)) || SKIPPED+=("some of $peer's workloads at $n workers (a run failed: $(grep -m1 FAILED "$LOG"))")
      cat "$LOG.rows" >>"$tsv"
    fi
    rm -f "$LOG.rows"
  done
  [[ -s $tsv ]] && COMPARE+=(--compare "$tsv")
done
PEERS_SECONDS=$SECONDS

NOTES=(--note "Made by \`tools/docs/bench-report.sh\` (not by hand): the peers (\`../shared/peers/run --workers N --reps $REPS --only ... ${PEERS[*]}\`, \`peers-*w.tsv\`) ran first, from load average $PEERS_LOAD, for ${PEERS_SECONDS} s; corio-bench (\`corio.tsv\`) right after them. **The machine is shared** (a 2-vCPU VM that other jobs, builds included, use at the same time): absolute times are noisy and ratios taken minutes apart are only indicative; the README's tables come from side-by-side runs on a quiet machine.")
NOTES+=(--note "Workloads: the scheduler ones of WORKLOADS.md ($ONLY); echo and http are left out (each of their repetitions is a 5 s load, and on 2 cores the load generator shares the cores with the server). Peers implement only some workloads (see ../shared/peers/README.md); their missing bars say n/a.")
if ((${#SKIPPED[@]})); then
  skipped=$(printf '%s; ' "${SKIPPED[@]}")
  NOTES+=(--note "Skipped: ${skipped%; }.")
fi

# corio-bench's arguments go into report.md, so name the files relative to the repository.
cd "$REPO" || exit 1
COMPARE=("${COMPARE[@]/#$REPO\//}")
build/release/bin/corio-bench --workers "$WORKERS" --reps "$REPS" --only "$ONLY" \
  --report docs/bench-report "${COMPARE[@]}" "${NOTES[@]}" >docs/bench-report/corio.tsv || exit 1
echo "bench-report: wrote docs/bench-report/report.md in ${SECONDS} s" >&2
