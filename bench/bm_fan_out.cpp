// A parent spawns 1,000 children that each return their index and joins
// them, four ways: awaiting each handle in spawn order, one gather of
// them all, one wait for all (asyncio.wait), and a task_group. Per child,
// on runtimes of 1 and 2 workers (the argument). The children either
// return at once (`ready`) or yield once first (`yielding`: none is done
// when the parent starts to wait, so every join waits for every child).
// The four do the same work with different bookkeeping: an awaited handle
// is the fork-join fast path, gather runs the children nobody has started
// in the gathering task, wait runs none of them (as asyncio.wait) and
// only watches them finish, and a task_group keeps a node per child on a
// locked list, which is what its cancellation on failure needs. Each
// iteration runs 100 fan-outs in one run_until_complete, so the wake-up
// of a parked worker that starts it (tens of microseconds on a VM) is not
// a child's cost. Real time: the calling thread only blocks.
#include <corio/corio.hpp>

#include <cstdint>
#include <vector>

#include "bm_common.hpp"

namespace {

using corio_bench::ops_per_batch;
constexpr std::int64_t fan_outs_per_iteration = 100;

using child_fn = corio::task<std::int64_t> (*)(std::int64_t);

corio::task<std::int64_t> ready(std::int64_t i) { co_return i; }
corio::task<std::int64_t> yielding(std::int64_t i) {
    co_await corio::yield();
    co_return i;
}

template <child_fn Child>
corio::task<std::int64_t> awaited_in_order() {
    std::vector<corio::task_handle<std::int64_t>> handles;
    handles.reserve(ops_per_batch);
    for (std::int64_t i = 0; i < ops_per_batch; ++i) handles.push_back(corio::create_task(Child(i)));
    std::int64_t sum = 0;
    for (auto& h : handles) sum += co_await std::move(h);
    co_return sum;
}

template <child_fn Child>
corio::task<std::int64_t> gathered() {
    std::vector<corio::task<std::int64_t>> children;
    children.reserve(ops_per_batch);
    for (std::int64_t i = 0; i < ops_per_batch; ++i) children.push_back(Child(i));
    std::int64_t sum = 0;
    for (std::int64_t v : co_await corio::gather(std::move(children))) sum += v;
    co_return sum;
}

template <child_fn Child>
corio::task<std::int64_t> waited_for_all() {
    std::vector<corio::task_handle<std::int64_t>> handles;
    handles.reserve(ops_per_batch);
    for (std::int64_t i = 0; i < ops_per_batch; ++i) handles.push_back(corio::create_task(Child(i)));
    const auto result = co_await corio::wait(std::move(handles));
    std::int64_t sum = 0;
    for (const auto& h : result.done) sum += h.result();
    co_return sum;
}

template <child_fn Child>
corio::task<std::int64_t> in_a_task_group() {
    std::vector<corio::task_handle<std::int64_t>> handles;
    handles.reserve(ops_per_batch);
    corio::task_group tg;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) handles.push_back(tg.create_task(Child(i)));
    co_await tg.join();
    std::int64_t sum = 0;
    for (auto& h : handles) sum += h.result();
    co_return sum;
}

template <corio::task<std::int64_t> (*FanOut)()>
corio::task<bool> fan_outs() {
    for (std::int64_t i = 0; i < fan_outs_per_iteration; ++i)
        if (co_await FanOut() != corio_bench::sum_below(ops_per_batch)) co_return false;
    co_return true;
}

template <corio::task<std::int64_t> (*FanOut)()>
void run_fan_outs(benchmark::State& state) {
    corio::runtime rt({.workers = static_cast<std::size_t>(state.range(0))});
    for (auto _ : state) {
        if (!rt.run_until_complete(fan_outs<FanOut>())) {
            state.SkipWithError("wrong sum");
            break;
        }
    }
    corio_bench::report_per_op(state, fan_outs_per_iteration * ops_per_batch);
}

void BM_fan_out_awaited_in_order(benchmark::State& state) { run_fan_outs<awaited_in_order<ready>>(state); }
void BM_fan_out_gather(benchmark::State& state) { run_fan_outs<gathered<ready>>(state); }
void BM_fan_out_wait(benchmark::State& state) { run_fan_outs<waited_for_all<ready>>(state); }
void BM_fan_out_task_group(benchmark::State& state) { run_fan_outs<in_a_task_group<ready>>(state); }
void BM_fan_out_yielding_awaited_in_order(benchmark::State& state) { run_fan_outs<awaited_in_order<yielding>>(state); }
void BM_fan_out_yielding_gather(benchmark::State& state) { run_fan_outs<gathered<yielding>>(state); }
void BM_fan_out_yielding_wait(benchmark::State& state) { run_fan_outs<waited_for_all<yielding>>(state); }
void BM_fan_out_yielding_task_group(benchmark::State& state) { run_fan_outs<in_a_task_group<yielding>>(state); }
BENCHMARK(BM_fan_out_awaited_in_order)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_fan_out_gather)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_fan_out_wait)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_fan_out_task_group)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_fan_out_yielding_awaited_in_order)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_fan_out_yielding_gather)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_fan_out_yielding_wait)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_fan_out_yielding_task_group)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
