#!/usr/bin/env python3
"""ctest corio_bench_report: corio-bench --report with --compare and a worker
list writes report.md and well-formed SVG charts (a scaling chart included),
keeps stdout pure TSV, and rejects bad input with a clear message.

    report_test.py path/to/corio-bench
"""
import re
import subprocess
import sys
import tempfile
import xml.dom.minidom
from pathlib import Path

BENCH = sys.argv[1]
TSV_LINE = re.compile(r"^corio\t[a-z_]+\t[0-9]+\t[a-z_]+\t[0-9]+\.[0-9]{3}$")
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAILED:", what, file=sys.stderr)


def run(*args):
    return subprocess.run([BENCH, *args], capture_output=True, text=True, timeout=120)


def rejects(args, expected_in_stderr, what):
    result = run(*args)
    check(result.returncode != 0, f"{what}: exit status {result.returncode}, expected non-zero")
    check(expected_in_stderr in result.stderr,
          f"{what}: stderr lacks {expected_in_stderr!r}: {result.stderr.strip()!r}")
    check(result.stdout == "", f"{what}: printed on stdout: {result.stdout!r}")


with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    peers = tmp / "peers.tsv"
    peers.write_text("tokio\tfib\t1\twall_ms\t1000000.000\n"
                     "tokio\tfib\t2\twall_ms\t1000000.000\n"
                     "\n"
                     "go\tfib\t1\twall_ms\t1.000\n"
                     "tokio\tyield_many\t1\twall_ms\t71.400\n"
                     "tokio\tyield_many\t2\twall_ms\t60.000\n"
                     "asyncio\tfib\t1\twall_ms_n10\t1175.053\n"
                     "tokio\techo\t2\tmsgs_per_s\t90422.000\n")
    report = tmp / "report"
    result = run("--only", "fib,yield_many", "--workers", "1,2", "--reps", "1",
                 "--report", str(report), "--compare", str(peers), "--note", "A test note.")
    check(result.returncode == 0, f"report run exited {result.returncode}: {result.stderr}")
    lines = result.stdout.splitlines()
    check(len(lines) == 4 and all(TSV_LINE.match(line) for line in lines),
          f"stdout is not 4 corio TSV lines: {result.stdout!r}")
    check([line.split("\t")[1:3] for line in lines] ==
          [["fib", "1"], ["fib", "2"], ["yield_many", "1"], ["yield_many", "2"]],
          f"runs not in workload, then worker order: {lines}")

    md_path = report / "report.md"
    check(md_path.is_file(), "no report.md")
    md = md_path.read_text() if md_path.is_file() else ""
    check("| workload | workers | metric | corio | corio reps | tokio | corio/tokio | go | corio/go |" in md,
          "report.md lacks the table header with tokio and go columns")
    for workload, workers in [("fib", 1), ("fib", 2), ("yield_many", 1), ("yield_many", 2)]:
        check(re.search(rf"^\| {workload} \| {workers} \| wall_ms \| [0-9.]+ \|", md, re.M),
              f"report.md lacks the row {workload} w={workers}")
    # The peers' figures are far outside anything corio can measure in any
    # build (TSan's included): go's fib at 1 ms makes corio slower, tokio's
    # at 1,000 s makes it faster.
    check(re.search(r"^\| fib \| 1 \| .*🟢 [0-9.]+ \| 1\.00 \| 🔴 [0-9.]+ \|$", md, re.M),
          "ratios are not marked green for corio faster and red for corio slower")
    check("asyncio: metric wall_ms_n10, corio's is wall_ms: fib w=1" in md, "asyncio row not listed as not compared")
    check("tokio: corio did not run this workload: echo w=2" in md, "echo row not listed as not compared")
    check("A test note." in md, "--note missing from report.md")

    for name in ["fib", "yield_many", "fib-scaling", "yield_many-scaling"]:
        svg = report / f"{name}.svg"
        check(svg.is_file(), f"no {svg.name}")
        check(f"({svg.name})" in md, f"report.md does not link {svg.name}")
        if svg.is_file():
            try:
                document = xml.dom.minidom.parse(str(svg))
                check(document.documentElement.tagName == "svg", f"{svg.name}: root is not <svg>")
                if name.endswith("-scaling"):
                    check(len(document.getElementsByTagName("polyline")) == 2,
                          f"{svg.name}: expected a line for corio and one for tokio")
                else:
                    check(len(document.getElementsByTagName("rect")) >= 5, f"{svg.name}: too few bars")
            except Exception as error:
                check(False, f"{svg.name} is not well-formed XML: {error}")

    # Bad input: a clear message and a non-zero exit before anything runs.
    rejects(["--only", "fib", "--report", str(tmp / "r2"), "--compare", str(tmp / "missing.tsv")],
            "missing.tsv: cannot open", "nonexistent --compare file")
    bad = tmp / "bad.tsv"
    bad.write_text("tokio\tfib\t1\twall_ms\t415.695\ntokio\tfib\t1\n")
    rejects(["--only", "fib", "--report", str(tmp / "r3"), "--compare", str(bad)],
            "bad.tsv:2: expected 5 tab-separated fields", "TSV line with 3 fields")
    bad.write_text("tokio\tfib\t1\twall_ms\tfast\n")
    rejects(["--only", "fib", "--report", str(tmp / "r4"), "--compare", str(bad)],
            "bad.tsv:1: value must be a non-negative number, not 'fast'", "TSV value that is not a number")
    bad.write_text("tokio\tfib\ttwo\twall_ms\t1.0\n")
    rejects(["--only", "fib", "--report", str(tmp / "r5"), "--compare", str(bad)],
            "bad.tsv:1: workers must be a positive integer", "TSV workers that is not a number")
    for workers, message in [("1,,2", "--workers wants positive integers separated by commas; '' in '1,,2'"),
                             ("0", "--workers wants positive integers separated by commas; '0' in '0'"),
                             ("1,x", "'x' in '1,x' is not one"),
                             ("2,2", "--workers lists 2 twice")]:
        rejects(["--only", "fib", "--workers", workers], message, f"--workers {workers}")
    rejects(["--only", "fib", "--compare", str(peers)], "--compare goes with --report", "--compare without --report")

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("corio-bench report: all checks passed")
