// skynet: a 10-ary tree of spawned tasks, 6 levels, 1,000,000 leaves; each
// inner node spawns its 10 children and sums their results; leaf i returns
// i (WORKLOADS.md).
#include <cstdint>

#include "workloads.hpp"

namespace corio_bench {

namespace {

constexpr std::uint64_t leaves = 1'000'000;
constexpr std::uint64_t expected = 499'999'500'000;

corio::task<std::uint64_t> skynet_node(std::uint64_t num, std::uint64_t size) {
    if (size == 1) co_return num;
    const std::uint64_t step = size / 10;
    corio::task_handle<std::uint64_t> children[10];
    for (std::uint64_t i = 0; i < 10; ++i) children[i] = corio::create_task(skynet_node(num + i * step, step));
    std::uint64_t sum = 0;
    for (auto& c : children) sum += co_await std::move(c);
    co_return sum;
}

}  // namespace

double skynet(corio::runtime& rt) {
    return time_root(rt, skynet_node(0, leaves), [](std::uint64_t r) { check(r == expected, "skynet sum"); });
}

}  // namespace corio_bench
