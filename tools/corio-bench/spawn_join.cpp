// spawn_join: the root spawns N tasks that each return their index, then
// awaits every handle in spawn order and sums (WORKLOADS.md).
#include <cstdint>
#include <vector>

#include "workloads.hpp"

namespace corio_bench {

namespace {

constexpr std::uint64_t n = 1'000'000;

corio::task<std::uint64_t> identity(std::uint64_t i) { co_return i; }

corio::task<std::uint64_t> spawn_join_root() {
    std::vector<corio::task_handle<std::uint64_t>> handles;
    handles.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) handles.push_back(corio::create_task(identity(i)));
    std::uint64_t sum = 0;
    for (auto& h : handles) sum += co_await std::move(h);
    co_return sum;
}

}  // namespace

double spawn_join(corio::runtime& rt) {
    return time_root(rt, spawn_join_root(),
                     [](std::uint64_t sum) { check(sum == n * (n - 1) / 2, "spawn_join sum"); });
}

}  // namespace corio_bench
