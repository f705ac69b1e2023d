#include "corio/condition.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <vector>

#include "corio/corio.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

TEST_CASE("wait and notify without holding the lock throw runtime_error", "[condition]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<bool>> {
        corio::condition c;
        std::vector<bool> out;
        try {
            co_await c.wait();
            out.push_back(false);
        } catch (const std::runtime_error&) {
            out.push_back(true);
        }
        try {
            c.notify();
            out.push_back(false);
        } catch (const std::runtime_error&) {
            out.push_back(true);
        }
        out.push_back(!c.locked());
        co_return out;
    });
    REQUIRE(r == std::vector<bool>(3, true));
}

TEST_CASE("a condition built on a lock shares it", "[condition]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<bool>> {
        corio::lock l;
        corio::condition c(l);
        std::vector<bool> out;
        co_await l.acquire();
        out.push_back(c.locked());
        c.release();
        out.push_back(!l.locked());
        {
            auto g = co_await c.scoped();
            out.push_back(l.locked());
        }
        out.push_back(!l.locked());
        co_return out;
    });
    REQUIRE(r == std::vector<bool>(4, true));
}

TEST_CASE("wait releases the lock, and returns true holding it again after a notify", "[condition]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<bool>> {
        corio::condition c;
        bool ready = false;  // under c's lock
        std::vector<bool> out;
        auto waiter = corio::create_task([](corio::condition& c, bool& ready) -> corio::task<bool> {
            auto g = co_await c.scoped();
            bool woke = true;
            while (!ready) woke = woke && co_await c.wait();
            co_return woke && c.locked();
        }(c, ready));
        {
            auto g = co_await c.scoped();  // only free while the waiter waits (or before it ran)
            ready = true;
            c.notify();
        }
        out.push_back(co_await waiter);
        out.push_back(!c.locked());
        co_return out;
    });
    REQUIRE(r == std::vector<bool>(2, true));
}

TEST_CASE("notify(n) wakes n waiters in FIFO order, notify_all the rest", "[condition]") {
    // Standalone: the order waiters park in is the order they were created.
    const auto woke = corio_test::run_in(corio_test::standalone, []() -> corio::task<std::vector<int>> {
        corio::condition c;
        std::vector<int> woke;  // under c's lock
        std::vector<corio::task_handle<void>> waiters;
        for (int i = 0; i < 5; ++i) {
            waiters.push_back(corio::create_task([](corio::condition& c, std::vector<int>& woke, int i) -> corio::task<void> {
                auto g = co_await c.scoped();
                co_await c.wait();
                woke.push_back(i);
            }(c, woke, i)));
            co_await corio::yield();  // waiter i parks before i + 1 starts
        }
        {
            auto g = co_await c.scoped();
            c.notify(2);
        }
        co_await waiters[0];
        co_await waiters[1];
        woke.push_back(-1);
        {
            auto g = co_await c.scoped();
            c.notify_all();
        }
        for (auto& w : waiters) co_await w;
        co_return woke;
    });
    REQUIRE(woke == std::vector<int>{0, 1, -1, 2, 3, 4});
}

TEST_CASE("wait_for returns the predicate's result once it holds, across workers", "[condition]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto total = corio_test::run_in(mode, []() -> corio::task<long> {
        corio::condition c;
        std::vector<int> items;  // under c's lock
        bool closed = false;
        constexpr int consumers = 4, per_producer = 250, producers = 4;
        std::vector<corio::task_handle<long>> cs;
        for (int i = 0; i < consumers; ++i)
            cs.push_back(corio::create_task([](corio::condition& c, std::vector<int>& items, bool& closed) -> corio::task<long> {
                long sum = 0;
                for (;;) {
                    auto g = co_await c.scoped();
                    const std::optional<int> item = co_await c.wait_for([&]() -> std::optional<int> {
                        if (items.empty()) return closed ? std::optional<int>(-1) : std::nullopt;
                        const int v = items.back();
                        items.pop_back();
                        return v;
                    });
                    if (*item < 0) co_return sum;
                    sum += *item;
                }
            }(c, items, closed)));
        std::vector<corio::task_handle<void>> ps;
        for (int p = 0; p < producers; ++p)
            ps.push_back(corio::create_task([](corio::condition& c, std::vector<int>& items) -> corio::task<void> {
                for (int i = 1; i <= per_producer; ++i) {
                    auto g = co_await c.scoped();
                    items.push_back(i);
                    c.notify();
                }
            }(c, items)));
        for (auto& p : ps) co_await p;
        {
            auto g = co_await c.scoped();
            closed = true;
            c.notify_all();
        }
        long total = 0;
        for (auto& h : cs) total += co_await h;
        co_return total;
    });
    REQUIRE(total == 4L * (250 * 251 / 2));
}
