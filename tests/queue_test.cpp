#include "corio/queue.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <vector>

#include "corio/corio.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

TEST_CASE("queue is FIFO and the nowait forms report full and empty", "[queue]") {
    corio::queue<int> q(2);
    REQUIRE(q.empty());
    REQUIRE(q.maxsize() == 2);
    q.put_nowait(1);
    q.put_nowait(2);
    REQUIRE(q.full());
    REQUIRE_THROWS_AS(q.put_nowait(3), corio::queue_full);
    REQUIRE(q.get_nowait() == 1);
    REQUIRE(q.get_nowait() == 2);
    REQUIRE_THROWS_AS(q.get_nowait(), corio::queue_empty);
    corio::queue<int> unbounded(0);
    for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
    REQUIRE_FALSE(unbounded.full());
    REQUIRE(unbounded.qsize() == 1000);
}

TEST_CASE("get waits for a put and puts wait for room, in order", "[queue]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto got = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        corio::queue<int> q(1);
        auto producer = corio::create_task([](corio::queue<int>& q) -> corio::task<void> {
            for (int i = 0; i < 100; ++i) co_await q.put(i);  // maxsize 1: waits for each get
        }(q));
        std::vector<int> out;
        for (int i = 0; i < 100; ++i) {
            out.push_back(co_await q.get());
            q.task_done();
        }
        co_await producer;
        co_return out;
    });
    REQUIRE(got.size() == 100);
    for (int i = 0; i < 100; ++i) REQUIRE(got[i] == i);
}

TEST_CASE("a cancelled get loses no item", "[queue][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto left = corio_test::run_in(mode, []() -> corio::task<std::size_t> {
        corio::queue<int> q;
        auto getter = corio::create_task([](corio::queue<int>& q) -> corio::task<int> { co_return co_await q.get(); }(q));
        co_await corio::sleep(1ms);  // the getter is waiting now
        getter.cancel();
        q.put_nowait(7);  // a put racing the cancellation: the item must survive it
        int received = 0;
        try {
            received = co_await getter;
        } catch (const corio::cancelled_error&) {
        }
        co_return q.qsize() + (received == 7 ? 1 : 0);
    });
    REQUIRE(left == 1);  // either the getter got it, or it is still queued: never lost
}

TEST_CASE("a cancelled put inserts nothing", "[queue][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto items = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        corio::queue<int> q(1);
        q.put_nowait(1);
        auto putter = corio::create_task([](corio::queue<int>& q) -> corio::task<void> { co_await q.put(2); }(q));
        co_await corio::sleep(1ms);  // the putter is waiting for room
        putter.cancel();
        try {
            co_await putter;
        } catch (const corio::cancelled_error&) {
        }
        std::vector<int> out;
        while (!q.empty()) out.push_back(q.get_nowait());
        co_return out;
    });
    REQUIRE(items == std::vector<int>{1});
}

TEST_CASE("join waits until every item is task_done; too many task_done throws", "[queue]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto processed = corio_test::run_in(mode, []() -> corio::task<int> {
        corio::queue<int> q;
        co_await q.join();  // nothing put yet: returns at once
        for (int i = 0; i < 10; ++i) q.put_nowait(i);
        auto worker = std::make_shared<int>(0);
        auto consumer = corio::create_task([](corio::queue<int>& q, std::shared_ptr<int> n) -> corio::task<void> {
            for (;;) {
                (void)co_await q.get();
                co_await corio::yield();
                ++*n;
                q.task_done();
            }
        }(q, worker));
        co_await q.join();
        const int done = *worker;
        consumer.cancel();
        try {
            co_await consumer;
        } catch (const corio::cancelled_error&) {
        }
        if (done == 10) {
            try {
                q.task_done();
            } catch (const std::logic_error&) {
                co_return done;
            }
        }
        co_return -1;
    });
    REQUIRE(processed == 10);
}

TEST_CASE("sixteen producers and sixteen consumers move every item exactly once", "[queue][stress]") {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    constexpr int per_producer = 6'250;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
    constexpr int per_producer = 6'250;
#else
    constexpr int per_producer = 62'500;
#endif
#else
    constexpr int per_producer = 62'500;
#endif
    constexpr int producers = 16, consumers = 16, total = producers * per_producer;
    std::vector<std::atomic<std::uint8_t>> seen(total);
    corio::run(
        [](std::vector<std::atomic<std::uint8_t>>& seen) -> corio::task<void> {
            corio::queue<int> q(64);
            std::vector<corio::task_handle<void>> all;
            for (int p = 0; p < producers; ++p)
                all.push_back(corio::create_task([](corio::queue<int>& q, int first) -> corio::task<void> {
                    for (int i = 0; i < per_producer; ++i) co_await q.put(first + i);
                }(q, p * per_producer)));
            for (int c = 0; c < consumers; ++c)
                all.push_back(corio::create_task(
                    [](corio::queue<int>& q, std::vector<std::atomic<std::uint8_t>>& seen) -> corio::task<void> {
                        for (;;) {
                            const int v = co_await q.get();
                            if (v < 0) co_return;  // poison pill
                            seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
                        }
                    }(q, seen)));
            for (int p = 0; p < producers; ++p) co_await all[static_cast<std::size_t>(p)];
            for (int c = 0; c < consumers; ++c) co_await q.put(-1);
            for (auto& h : all) co_await h;
        }(seen),
        {.workers = 8});
    int wrong = 0;
    for (auto& s : seen) wrong += s.load() != 1;
    REQUIRE(wrong == 0);
}
