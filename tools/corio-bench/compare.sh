#!/usr/bin/env bash
# Runs corio-bench and the peers (../shared/peers/run) side by side, workload
# by workload, so each ratio comes from runs taken seconds apart, and prints
# the medians with corio's ratios to each peer.
#
#   compare.sh [--workers N] [--reps R] [--only w1,w2] [--bench PATH] [runtime ...]
#
# stdout: all TSV lines (corio's and the peers'), then a table (also TSV)
# `workload corio <peer>... corio/<peer>...`. Progress goes to stderr.
# Environment: PEERS_DIR (default <repo>/../shared/peers).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PEERS_DIR=${PEERS_DIR:-$REPO/../shared/peers}
BENCH=$REPO/build/release/bin/corio-bench
WORKERS=$(nproc)
REPS=5
ONLY=spawn_join,spawn_remote,fib,skynet,ping_pong,yield_many,chained_spawn,sleep_many
PEERS=()
while (($#)); do
  case $1 in
    --workers) WORKERS=${2:?}; shift 2 ;;
    --reps) REPS=${2:?}; shift 2 ;;
    --only) ONLY=${2:?}; shift 2 ;;
    --bench) BENCH=${2:?}; shift 2 ;;
    -*) echo "usage: $0 [--workers N] [--reps R] [--only w1,w2] [--bench PATH] [runtime ...]" >&2; exit 2 ;;
    *) PEERS+=("$1"); shift ;;
  esac
done
((${#PEERS[@]})) || PEERS=(tokio tbb go)
[[ -x $BENCH ]] || { echo "compare.sh: no corio-bench at $BENCH (use --bench)" >&2; exit 2; }

TSV=$(mktemp)
trap 'rm -f "$TSV"' EXIT
STATUS=0
IFS=, read -r -a WORKLOADS <<<"$ONLY"
for w in "${WORKLOADS[@]}"; do
  echo "compare: $w (workers $WORKERS, reps $REPS; load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  "$PEERS_DIR/run" --workers "$WORKERS" --reps "$REPS" --only "$w" "${PEERS[@]}" >>"$TSV" || STATUS=1
  "$BENCH" --workers "$WORKERS" --reps "$REPS" --only "$w" >>"$TSV" || STATUS=1
done
cat "$TSV"
echo
awk -F'\t' -v peers="${PEERS[*]}" -v order="${WORKLOADS[*]}" '
  { ms[$2, $1] = $5 }
  END {
    np = split(peers, p, " "); nw = split(order, w, " ")
    line = "workload\tcorio"
    for (i = 1; i <= np; i++) line = line "\t" p[i]
    for (i = 1; i <= np; i++) line = line "\tcorio/" p[i]
    print line
    for (j = 1; j <= nw; j++) {
      c = ms[w[j], "corio"]; line = w[j] "\t" (c == "" ? "-" : c)
      for (i = 1; i <= np; i++) { v = ms[w[j], p[i]]; line = line "\t" (v == "" ? "-" : v) }
      for (i = 1; i <= np; i++) {
        v = ms[w[j], p[i]]
        line = line "\t" ((c == "" || v == "" || v == 0) ? "-" : sprintf("%.2f", c / v))
      }
      print line
    }
  }' "$TSV"
exit $STATUS
