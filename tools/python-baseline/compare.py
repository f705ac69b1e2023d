#!/usr/bin/env python3
"""Table of corio's single-loop micro-costs against Python asyncio's.

Runs bm_task, bm_future and bm_event_loop from a build's bin/ folder
(--benchmark_repetitions=5, aggregates only, median per_op) and
asyncio_ops.py (median of 5 runs), and prints a Markdown table:
operation, corio ns/op, asyncio ns/op, ratio. Both sides are CPU time of
the measuring thread (except corio benchmarks marked UseRealTime, whose
work runs on a runtime's worker thread), so a busy machine skews neither.

    /usr/bin/python3 tools/python-baseline/compare.py build/release/bin [--reps 5] [--uvloop]
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def corio_medians(bindir, reps):
    medians = {}
    for exe in ("bm_task", "bm_future", "bm_event_loop"):
        out = subprocess.run(
            [os.path.join(bindir, exe), f"--benchmark_repetitions={reps}",
             "--benchmark_report_aggregates_only=true", "--benchmark_format=json"],
            check=True, capture_output=True, text=True).stdout
        for b in json.loads(out)["benchmarks"]:
            if b.get("aggregate_name") == "median":
                name = b["run_name"].removesuffix("/real_time")
                medians[name] = b["per_op"] * 1e9  # per_op is in seconds
    return medians


def python_medians(reps, uvloop):
    cmd = [sys.executable, os.path.join(HERE, "asyncio_ops.py"), f"--runs={reps}"]
    if uvloop:
        cmd.append("--uvloop")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        if line.startswith("#") or line.startswith("operation\t"):
            continue
        name, bm, median, _ = line.split("\t")
        rows.append((name, bm, float(median)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bindir", help="folder holding bm_task, bm_future, bm_event_loop")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--uvloop", action="store_true")
    args = ap.parse_args()

    corio = corio_medians(args.bindir, args.reps)
    peer = "uvloop" if args.uvloop else "asyncio"
    print(f"| operation | corio benchmark | corio ns/op | {peer} ns/op | ratio |")
    print("|---|---|---:|---:|---:|")
    rows = python_medians(args.reps, args.uvloop)
    for name, bm, py in rows:
        c = corio[bm]
        print(f"| {name} | {bm} | {c:.1f} | {py:.1f} | {py / c:.1f}x |")
    for bm in sorted(set(corio) - {bm for _, bm, _ in rows}):
        print(f"| (corio only) | {bm} | {corio[bm]:.1f} | | |")


if __name__ == "__main__":
    main()
