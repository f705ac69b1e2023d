// spawn_remote: a plain std::thread, not a worker, spawns N tasks into the
// runtime through runtime::create_task (the injection queue), each of which
// increments a counter, then blocks until all have run (WORKLOADS.md).
// Timed on that thread, from its first spawn to its wake-up, as the Tokio
// and TBB peers do.
#include <atomic>
#include <cstdint>
#include <thread>

#include "workloads.hpp"

namespace corio_bench {

namespace {

constexpr std::uint64_t n = 100'000;

// Static, as in the TBB peer: the last task may still be inside notify_one()
// when the spawning thread wakes up and the repetition ends.
std::atomic<std::uint64_t> counter;
std::atomic<bool> all_ran;

corio::task<void> count_one() {
    // acq_rel: the last increment acquires all the earlier ones, so the
    // release store below publishes the complete count.
    if (counter.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
        all_ran.store(true, std::memory_order_release);  // pairs with the acquire wait()
        all_ran.notify_one();
    }
    co_return;
}

}  // namespace

double spawn_remote(corio::runtime& rt) {
    counter.store(0);
    all_ran.store(false);
    double ms = 0;
    std::thread remote([&] {
        const auto start = bench_clock::now();
        for (std::uint64_t i = 0; i < n; ++i) rt.create_task(count_one());  // handle dropped: detached
        all_ran.wait(false, std::memory_order_acquire);
        ms = elapsed_ms(start);
    });
    remote.join();
    check(counter.load() == n, "spawn_remote counter");
    return ms;
}

}  // namespace corio_bench
