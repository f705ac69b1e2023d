// sleep_many: 100,000 tasks each co_await corio::sleep(1ms), all at once;
// the root awaits all of them in spawn order. The wall time includes the
// 1 ms (WORKLOADS.md).
#include <chrono>
#include <cstdint>
#include <vector>

#include "workloads.hpp"

namespace corio_bench {

namespace {

constexpr std::size_t tasks = 100'000;

corio::task<void> sleeper() { co_await corio::sleep(std::chrono::milliseconds(1)); }

corio::task<std::uint64_t> sleep_many_root() {
    std::vector<corio::task_handle<void>> handles;
    handles.reserve(tasks);
    for (std::size_t i = 0; i < tasks; ++i) handles.push_back(corio::create_task(sleeper()));
    std::uint64_t finished = 0;
    for (auto& h : handles) {
        co_await std::move(h);
        ++finished;
    }
    co_return finished;
}

}  // namespace

double sleep_many(corio::runtime& rt) {
    return time_root(rt, sleep_many_root(), [](std::uint64_t finished) { check(finished == tasks, "sleep_many"); });
}

}  // namespace corio_bench
