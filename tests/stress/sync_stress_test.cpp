// Cross-core stress for the synchronization primitives: more workers than
// cores, so workers are preempted inside every window of the hand-over
// protocol. Run under ThreadSanitizer: a lost update or a race on the
// lock-protected counter is a failure.
#include "corio/lock.hpp"
#include "corio/semaphore.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

#include "corio/corio.hpp"

TEST_CASE("1,000,000 lock hand-overs between 64 tasks on 8 workers lose no update", "[lock][stress]") {
    constexpr int tasks = 64, per_task = 15'625;  // 1,000,000 acquire/increment/release
    std::uint64_t counter = 0;  // plain, not atomic: protected by the lock alone
    corio::run(
        [](std::uint64_t& counter) -> corio::task<void> {
            corio::lock l;
            std::vector<corio::task_handle<void>> all;
            for (int t = 0; t < tasks; ++t)
                all.push_back(corio::create_task([](corio::lock& l, std::uint64_t& counter) -> corio::task<void> {
                    for (int i = 0; i < per_task; ++i) {
                        co_await l.acquire();
                        ++counter;
                        // Now and then hold it across a suspension, so waiters
                        // queue up and releases hand over to parked tasks.
                        if (i % 16 == 0) co_await corio::yield();
                        l.release();
                    }
                }(l, counter)));
            for (auto& h : all) co_await h;
        }(counter),
        {.workers = 8});
    REQUIRE(counter == std::uint64_t{tasks} * per_task);
}

TEST_CASE("a semaphore never has more holders than permits, 64 tasks on 8 workers", "[semaphore][stress]") {
    constexpr int permits = 4, tasks = 64, per_task = 2'000;
    std::atomic<int> holders{0}, high_water{0};
    std::atomic<std::uint64_t> done{0};
    corio::run(
        [](std::atomic<int>& holders, std::atomic<int>& high_water, std::atomic<std::uint64_t>& done) -> corio::task<void> {
            corio::semaphore s(permits);
            std::vector<corio::task_handle<void>> all;
            for (int t = 0; t < tasks; ++t)
                all.push_back(corio::create_task([](corio::semaphore& s, std::atomic<int>& holders, std::atomic<int>& high_water,
                                                    std::atomic<std::uint64_t>& done, int t) -> corio::task<void> {
                    for (int i = 0; i < per_task; ++i) {
                        auto permit = co_await s.scoped();
                        const int now = holders.fetch_add(1) + 1;
                        int seen = high_water.load();
                        while (now > seen && !high_water.compare_exchange_weak(seen, now)) {
                        }
                        if ((i + t) % 4 == 0) co_await corio::yield();  // hold it across a suspension
                        holders.fetch_sub(1);
                        done.fetch_add(1, std::memory_order_relaxed);
                    }
                }(s, holders, high_water, done, t)));
            for (auto& h : all) co_await h;
        }(holders, high_water, done),
        {.workers = 8});
    REQUIRE(high_water.load() <= permits);
    REQUIRE(high_water.load() >= 1);
    REQUIRE(done.load() == std::uint64_t{tasks} * per_task);
}
