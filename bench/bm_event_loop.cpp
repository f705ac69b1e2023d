// Micro-costs of the loop itself: call_soon round trips (a callback that
// schedules the next one; how many callbacks the loop processes per
// second), a batch of call_soon callbacks run by one yield, and the
// yield() (asyncio.sleep(0)) round trip of a task through the run queue.
#include <corio/corio.hpp>

#include <cstdint>

#include "bm_common.hpp"

namespace {

using corio_bench::ops_per_batch;

// ---- call_soon chain: each callback schedules the next -------------------

struct chain {
    corio::event_loop* loop;
    corio::future<std::int64_t> done;
    std::int64_t count = 0;

    void step() {
        if (++count == ops_per_batch) {
            done.set_result(count);
            return;
        }
        loop->call_soon([this] { step(); });
    }
};

corio::task<std::int64_t> call_soon_chain_batch() {
    corio::event_loop& loop = corio::get_running_loop();
    chain c{&loop, loop.create_future<std::int64_t>()};
    loop.call_soon([&c] { c.step(); });
    co_return co_await c.done;
}

void BM_call_soon_round_trip(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, call_soon_chain_batch, ops_per_batch, "wrong callback count");
}
BENCHMARK(BM_call_soon_round_trip);

// ---- call_soon batch: schedule ops_per_batch callbacks, run them all -----

corio::task<std::int64_t> call_soon_batch() {
    corio::event_loop& loop = corio::get_running_loop();
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) loop.call_soon([&sum, i] { sum += i; });
    co_await corio::yield();  // FIFO: every callback above runs before this task resumes
    co_return sum;
}

void BM_call_soon_batch(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, call_soon_batch, corio_bench::sum_below(ops_per_batch), "wrong sum");
}
BENCHMARK(BM_call_soon_batch);

// ---- yield() round trip (asyncio.sleep(0)) -------------------------------

corio::task<std::int64_t> yield_batch() {
    std::int64_t n = 0;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) {
        co_await corio::yield();
        ++n;
    }
    co_return n;
}

void BM_yield_round_trip(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, yield_batch, ops_per_batch, "wrong count");
}
BENCHMARK(BM_yield_round_trip);

// sleep(0) is yield() (a zero delay never touches the timers); measured
// separately so a regression there shows.
corio::task<std::int64_t> sleep0_batch() {
    std::int64_t n = 0;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) {
        co_await corio::sleep(std::chrono::seconds(0));
        ++n;
    }
    co_return n;
}

void BM_sleep0_round_trip(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, sleep0_batch, ops_per_batch, "wrong count");
}
BENCHMARK(BM_sleep0_round_trip);

}  // namespace
