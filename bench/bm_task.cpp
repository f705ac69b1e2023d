// Micro-costs of tasks on one loop: co_await of a lazy task that returns at
// once (symmetric transfer in and out, one frame allocation from the
// per-thread frame cache), and create_task + co_await of an empty task
// (a spawned task: header, scheduling, completion, wake-up of the awaiter).
// The second runs both on a standalone loop (asyncio's strict FIFO: a real
// round trip through the run queue) and on a 1-worker runtime (where the
// fork-join fast path runs the child inline when the parent awaits it).
// Last, create_task + wait_for with a timeout that does not expire, and
// gather of two tasks that yield once.
#include <corio/corio.hpp>

#include <chrono>
#include <cstdint>

#include "bm_common.hpp"

namespace {

using corio_bench::ops_per_batch;

corio::task<std::int64_t> identity(std::int64_t i) { co_return i; }
corio::task<> empty() { co_return; }

// ---- co_await of a lazy task that returns at once ------------------------

corio::task<std::int64_t> await_ready_batch() {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) sum += co_await identity(i);
    co_return sum;
}

void BM_task_await_lazy(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, await_ready_batch, corio_bench::sum_below(ops_per_batch), "wrong sum");
}
BENCHMARK(BM_task_await_lazy);

// ---- create_task + co_await of an empty task ----------------------------

corio::task<std::int64_t> spawn_await_batch() {
    std::int64_t done = 0;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) {
        corio::task_handle<> h = corio::create_task(empty());
        co_await h;
        done += h.done() ? 1 : 0;
    }
    co_return done;
}

// A standalone loop: each create_task is a run-queue entry, each await a
// suspension of the parent and a wake-up when the child completes.
void BM_task_create_await_loop(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, spawn_await_batch, ops_per_batch, "a task was not done after its await");
}
BENCHMARK(BM_task_create_await_loop);

// The same on a 1-worker runtime. The calling thread only blocks, so the
// time is real time, not this thread's CPU time.
void BM_task_create_await_runtime1(benchmark::State& state) {
    corio::runtime rt({.workers = 1});
    for (auto _ : state) {
        if (rt.run_until_complete(spawn_await_batch()) != ops_per_batch) {
            state.SkipWithError("a task was not done after its await");
            break;
        }
    }
    corio_bench::report_per_op(state);
}
BENCHMARK(BM_task_create_await_runtime1)->UseRealTime();

// The value-returning variant: the result travels through the spawned
// task's result slot and is checked. (Two statements on purpose: GCC 12
// miscompiles `co_await corio::create_task(t)`, whose defaulted
// task_options argument, a temporary holding a std::string, is copied
// bitwise into the frame and then freed through a dangling SSO pointer.)
corio::task<std::int64_t> spawn_await_value_batch() {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) {
        corio::task_handle<std::int64_t> h = corio::create_task(identity(i));
        sum += co_await h;
    }
    co_return sum;
}

void BM_task_create_await_value_loop(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, spawn_await_value_batch, corio_bench::sum_below(ops_per_batch), "wrong sum");
}
BENCHMARK(BM_task_create_await_value_loop);

// ---- wait_for of a spawned task that finishes in time ----------------------

// asyncio's most common timeout: create_task + wait_for(handle, 1 s) on a
// standalone loop; the timer is set and left behind cancelled each time.
corio::task<std::int64_t> wait_for_batch() {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) {
        corio::task_handle<std::int64_t> h = corio::create_task(identity(i));
        sum += co_await corio::wait_for(h, std::chrono::seconds(1));
    }
    co_return sum;
}

void BM_task_wait_for_loop(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, wait_for_batch, corio_bench::sum_below(ops_per_batch), "wrong sum");
}
BENCHMARK(BM_task_wait_for_loop);

// ---- gather of two tasks ---------------------------------------------------

// asyncio's `await gather(a(), b())` of two tasks that each yield once
// (so the gathering task waits for them), on a standalone loop and on a
// 1-worker runtime (where the gather runs them inline first).
corio::task<std::int64_t> yield_then(std::int64_t i) {
    co_await corio::yield();
    co_return i;
}

corio::task<std::int64_t> gather_pairs_batch() {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < ops_per_batch; i += 2) {
        auto [a, b] = co_await corio::gather(yield_then(i), yield_then(i + 1));
        sum += a + b;
    }
    co_return sum;
}

void BM_task_gather_pair_loop(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, gather_pairs_batch, corio_bench::sum_below(ops_per_batch), "wrong sum");
}
BENCHMARK(BM_task_gather_pair_loop);

void BM_task_gather_pair_runtime1(benchmark::State& state) {
    corio::runtime rt({.workers = 1});
    for (auto _ : state) {
        if (rt.run_until_complete(gather_pairs_batch()) != corio_bench::sum_below(ops_per_batch)) {
            state.SkipWithError("wrong sum");
            break;
        }
    }
    corio_bench::report_per_op(state);
}
BENCHMARK(BM_task_gather_pair_runtime1)->UseRealTime();

}  // namespace
