// yield_many: 1,000 tasks each co_await corio::yield() 1,000 times; the
// root awaits each in spawn order (WORKLOADS.md).
#include <cstdint>
#include <vector>

#include "workloads.hpp"

namespace corio_bench {

namespace {

constexpr std::size_t tasks = 1'000;
constexpr std::uint64_t yields = 1'000;

corio::task<std::uint64_t> yielder() {
    std::uint64_t done = 0;
    for (std::uint64_t i = 0; i < yields; ++i) {
        co_await corio::yield();
        ++done;
    }
    co_return done;
}

corio::task<std::uint64_t> yield_many_root() {
    std::vector<corio::task_handle<std::uint64_t>> handles;
    handles.reserve(tasks);
    for (std::size_t i = 0; i < tasks; ++i) handles.push_back(corio::create_task(yielder()));
    std::uint64_t finished = 0;
    for (auto& h : handles) finished += (co_await std::move(h)) == yields;
    co_return finished;
}

}  // namespace

double yield_many(corio::runtime& rt) {
    return time_root(rt, yield_many_root(), [](std::uint64_t finished) { check(finished == tasks, "yield_many"); });
}

}  // namespace corio_bench
