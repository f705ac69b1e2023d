// fib: fork-join recursion with no cut-off. fib(n-1) is a spawned child,
// fib(n-2) runs in the current task (awaited lazily, inline), then the
// child is joined. fib(30): 1,346,268 spawns (WORKLOADS.md).
#include <cstdint>

#include "workloads.hpp"

namespace corio_bench {

namespace {

constexpr std::uint64_t n = 30;
constexpr std::uint64_t expected = 832'040;

corio::task<std::uint64_t> fib_task(std::uint64_t k) {
    if (k < 2) co_return k;
    corio::task_handle<std::uint64_t> child = corio::create_task(fib_task(k - 1));
    const std::uint64_t b = co_await fib_task(k - 2);
    const std::uint64_t a = co_await std::move(child);
    co_return a + b;
}

}  // namespace

double fib(corio::runtime& rt) {
    return time_root(rt, fib_task(n), [](std::uint64_t r) { check(r == expected, "fib(30)"); });
}

}  // namespace corio_bench
