#!/usr/bin/env bash
# Scaling run: corio-bench beside Tokio and oneTBB at 1..16 workers, each
# workload's three runtimes back to back (their order rotated from workload
# to workload and round to round), so each ratio comes from runs seconds
# apart. Made for a machine with no toolchain: pack-scaling.sh (beside
# this script) puts it, corio-bench, the peers' peers-tokio and peers-tbb
# and a lib/ folder with the shared libraries they need in one folder, and
# it runs from there. Prints and appends to $OUT/scaling.tsv the TSV lines
# of WORKLOADS.md with the round number as a sixth column; stops starting
# new runs after BUDGET seconds.
#
#   OUT=dir ROUNDS=3 WORKERS="1 2 4 8 16" REPS=3 BUDGET=330 ./scaling.sh
set -u
cd "$(dirname "$0")" || exit
export LD_LIBRARY_PATH=$PWD/lib
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
ROUNDS=${ROUNDS:-2}; WORKERS=${WORKERS:-"1 2 4 8 16"}; REPS=${REPS:-3}; BUDGET=${BUDGET:-400}
WLS="spawn_join spawn_remote fib skynet ping_pong yield_many chained_spawn sleep_many"
start=$SECONDS
{ nproc; grep -m1 'model name' /proc/cpuinfo; uname -r; cat /proc/loadavg; } >"$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"
run() {  # runtime workers workload round
  local rt=$1 w=$2 wl=$3 r=$4 out
  case $rt in
    corio) out=$(timeout 60 ./corio-bench --workers "$w" --reps "$REPS" --only "$wl" 2>/dev/null) ;;
    tokio) out=$(timeout 60 ./peers-tokio --workers "$w" --reps "$REPS" "$wl" 2>/dev/null) ;;
    tbb) [[ " spawn_join spawn_remote fib skynet chained_spawn " == *" $wl "* ]] || return 0
         out=$(timeout 60 ./peers-tbb --workers "$w" --reps "$REPS" "$wl" 2>/dev/null) ;;
  esac || echo "FAILED $rt $wl $w (exit $?)" >&2
  [[ -n $out ]] && printf '%s\n' "$out" | sed "s/\$/\t$r/" | tee -a "$OUT/scaling.tsv"
}
for ((r = 1; r <= ROUNDS; r++)); do
  for w in $WORKERS; do
    i=0
    for wl in $WLS; do
      (( SECONDS - start > BUDGET )) && { echo "budget spent at round $r, $w workers" >&2; exit 0; }
      case $(( (i + r) % 3 )) in
        0) order="corio tokio tbb" ;; 1) order="tokio tbb corio" ;; *) order="tbb corio tokio" ;;
      esac
      for rt in $order; do run "$rt" "$w" "$wl" "$r"; done
      i=$((i + 1))
    done
  done
  echo "round $r done at $((SECONDS - start)) s" >&2
done
cat /proc/loadavg >>"$OUT/machine.txt"
