// Micro-costs of futures on one loop: set_result then co_await (the future
// is already done: no suspension, as `f.set_result(x); await f` in asyncio),
// co_await of a future that a call_soon callback sets later (the awaiting
// task suspends and is woken through the run queue), and a done callback
// added, fired by set_result and run by the loop.
#include <corio/corio.hpp>

#include <cstdint>

#include "bm_common.hpp"

namespace {

using corio_bench::ops_per_batch;

corio::task<std::int64_t> set_then_await_batch() {
    corio::event_loop& loop = corio::get_running_loop();
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) {
        corio::future<std::int64_t> f = loop.create_future<std::int64_t>();
        f.set_result(i);
        sum += co_await f;
    }
    co_return sum;
}

void BM_future_set_then_await(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, set_then_await_batch, corio_bench::sum_below(ops_per_batch), "wrong sum");
}
BENCHMARK(BM_future_set_then_await);

corio::task<std::int64_t> await_then_set_batch() {
    corio::event_loop& loop = corio::get_running_loop();
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) {
        corio::future<std::int64_t> f = loop.create_future<std::int64_t>();
        loop.call_soon([f, i]() mutable { f.set_result(i); });
        sum += co_await f;
    }
    co_return sum;
}

void BM_future_await_then_set(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, await_then_set_batch, corio_bench::sum_below(ops_per_batch), "wrong sum");
}
BENCHMARK(BM_future_await_then_set);

corio::task<std::int64_t> done_callback_batch() {
    corio::event_loop& loop = corio::get_running_loop();
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) {
        corio::future<std::int64_t> f = loop.create_future<std::int64_t>();
        f.add_done_callback([&sum](const corio::future<std::int64_t>& done) { sum += done.result(); });
        f.set_result(i);
        co_await corio::yield();  // the loop runs the callback queued before us
    }
    co_return sum;
}

void BM_future_done_callback(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, done_callback_batch, corio_bench::sum_below(ops_per_batch), "wrong sum");
}
BENCHMARK(BM_future_done_callback);

}  // namespace
