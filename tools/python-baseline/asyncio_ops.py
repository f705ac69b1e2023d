#!/usr/bin/env python3
"""Python asyncio baseline for bench/bm_task, bm_future, bm_event_loop.

The same single-loop operations as corio's micro-benchmarks, measured the
same way: a batch of operations runs inside ONE run_until_complete on a
fresh loop; each operation is timed over `--runs` runs (default 5) and the
median ns/op is printed. The clock is this thread's CPU time
(time.thread_time_ns), which is what Google Benchmark's default "CPU"
column measures for the C++ side, so that other processes on a shared
machine inflate neither; --wall uses time.perf_counter_ns instead.

    /usr/bin/python3 tools/python-baseline/asyncio_ops.py [--ops N] [--runs R] [--wall] [--uvloop]

Every batch checks its answer (a sum or a count) and exits non-zero when it
is wrong, as the C++ benchmarks do.
"""
import argparse
import asyncio
import statistics
import sys
import time


async def identity(i):
    return i


async def empty():
    return None


async def await_lazy(n):
    """co_await of a task that returns at once: `await coro()`."""
    s = 0
    for i in range(n):
        s += await identity(i)
    return s, n * (n - 1) // 2


async def create_task_await(n):
    """create_task + await of an empty task."""
    done = 0
    for _ in range(n):
        t = asyncio.create_task(empty())
        await t
        done += t.done()
    return done, n


async def future_set_then_await(n):
    """future set_result, then await (already done: no suspension)."""
    loop = asyncio.get_running_loop()
    s = 0
    for i in range(n):
        f = loop.create_future()
        f.set_result(i)
        s += await f
    return s, n * (n - 1) // 2


async def future_await_then_set(n):
    """await a future that a call_soon callback sets (a real suspension)."""
    loop = asyncio.get_running_loop()
    s = 0
    for i in range(n):
        f = loop.create_future()
        loop.call_soon(f.set_result, i)
        s += await f
    return s, n * (n - 1) // 2


async def call_soon_round_trip(n):
    """call_soon chain: each callback schedules the next one."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    count = 0

    def step():
        nonlocal count
        count += 1
        if count == n:
            done.set_result(count)
        else:
            loop.call_soon(step)

    loop.call_soon(step)
    return await done, n


async def call_soon_batch(n):
    """n call_soon callbacks, all run by one sleep(0)."""
    loop = asyncio.get_running_loop()
    acc = [0]

    def add(i):
        acc[0] += i

    for i in range(n):
        loop.call_soon(add, i)
    await asyncio.sleep(0)
    return acc[0], n * (n - 1) // 2


async def sleep0_round_trip(n):
    """asyncio.sleep(0) round trip (corio::yield())."""
    c = 0
    for _ in range(n):
        await asyncio.sleep(0)
        c += 1
    return c, n


# name, function, corio benchmark it compares with
OPERATIONS = [
    ("await of a coroutine that returns at once", await_lazy, "BM_task_await_lazy"),
    ("create_task + await of an empty task", create_task_await, "BM_task_create_await_loop"),
    ("future set_result + await", future_set_then_await, "BM_future_set_then_await"),
    ("await future, set by call_soon", future_await_then_set, "BM_future_await_then_set"),
    ("call_soon round trip (chain)", call_soon_round_trip, "BM_call_soon_round_trip"),
    ("call_soon batch", call_soon_batch, "BM_call_soon_batch"),
    ("sleep(0) round trip", sleep0_round_trip, "BM_yield_round_trip"),
]


def time_once(new_loop, fn, n, clock):
    loop = new_loop()
    try:
        loop.run_until_complete(fn(1000))  # warm-up: first-call costs out of the timing
        t0 = clock()
        got, want = loop.run_until_complete(fn(n))
        elapsed = clock() - t0
    finally:
        loop.close()
    if got != want:
        sys.exit(f"{fn.__name__}: got {got}, expected {want}")
    return elapsed / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=200_000, help="operations per run")
    ap.add_argument("--runs", type=int, default=5, help="runs per operation (the median is printed)")
    ap.add_argument("--uvloop", action="store_true", help="use uvloop's loop instead of asyncio's")
    ap.add_argument("--wall", action="store_true", help="wall-clock time instead of this thread's CPU time")
    args = ap.parse_args()
    clock = time.perf_counter_ns if args.wall else time.thread_time_ns

    new_loop = asyncio.new_event_loop
    impl = "asyncio"
    if args.uvloop:
        import uvloop
        new_loop = uvloop.new_event_loop
        impl = "uvloop"

    print(f"# {impl} on Python {sys.version.split()[0]}, {args.ops} ops per run, median of {args.runs} runs, "
          f"{'wall-clock' if args.wall else 'thread CPU'} time")
    print("operation\tcorio_benchmark\tns_per_op_median\truns_ns_per_op")
    for name, fn, bm in OPERATIONS:
        runs = [time_once(new_loop, fn, args.ops, clock) for _ in range(args.runs)]
        print(f"{name}\t{bm}\t{statistics.median(runs):.1f}\t"
              + ",".join(f"{r:.1f}" for r in runs), flush=True)


if __name__ == "__main__":
    main()
