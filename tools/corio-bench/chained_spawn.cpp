// chained_spawn: each task spawns the next (detached), 1,000,000 in the
// chain; the last completes a corio::future that the root awaits
// (WORKLOADS.md).
#include <cstdint>

#include "workloads.hpp"

namespace corio_bench {

namespace {

constexpr std::uint64_t chain_length = 1'000'000;

corio::task<void> link(std::uint64_t count, corio::future<std::uint64_t> done) {
    if (count == chain_length) done.set_result(count);
    else corio::create_task(link(count + 1, std::move(done)));  // handle dropped: detached
    co_return;
}

corio::task<std::uint64_t> chained_spawn_root() {
    corio::future<std::uint64_t> done;  // bound to this worker's loop
    corio::create_task(link(1, done));
    co_return co_await done;
}

}  // namespace

double chained_spawn(corio::runtime& rt) {
    return time_root(rt, chained_spawn_root(),
                     [](std::uint64_t count) { check(count == chain_length, "chained_spawn count"); });
}

}  // namespace corio_bench
