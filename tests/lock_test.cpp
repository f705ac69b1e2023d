#include "corio/lock.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "corio/corio.hpp"
#include "run_modes.hpp"

static_assert(!std::is_copy_constructible_v<corio::lock::guard>);
static_assert(std::is_nothrow_move_constructible_v<corio::lock::guard>);

TEST_CASE("acquire takes a free lock, release frees it, releasing it again throws", "[lock]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct seen {
        bool before = true, held = false, after = true, threw = false;
    };
    const seen s = corio_test::run_in(mode, []() -> corio::task<seen> {
        corio::lock l;
        seen s;
        s.before = l.locked();
        co_await l.acquire();
        s.held = l.locked();
        l.release();
        s.after = l.locked();
        try {
            l.release();
        } catch (const std::runtime_error&) {
            s.threw = true;
        }
        co_return s;
    });
    REQUIRE_FALSE(s.before);
    REQUIRE(s.held);
    REQUIRE_FALSE(s.after);
    REQUIRE(s.threw);
}

TEST_CASE("scoped() holds the lock for the guard's lifetime; a moved guard releases once", "[lock]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto states = corio_test::run_in(mode, []() -> corio::task<std::vector<bool>> {
        corio::lock l;
        std::vector<bool> s;
        {
            auto g = co_await l.scoped();
            s.push_back(g.owns() && l.locked());
            corio::lock::guard moved = std::move(g);
            s.push_back(!g.owns() && moved.owns() && l.locked());  // NOLINT(bugprone-use-after-move): documented state
            moved.reset();
            s.push_back(!moved.owns() && !l.locked());
            auto again = co_await l.scoped();
            s.push_back(l.locked());
        }
        s.push_back(!l.locked());
        co_return s;
    });
    REQUIRE(states == std::vector<bool>(5, true));
}

TEST_CASE("a waiting acquire gets the lock when the holder releases it", "[lock]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto order = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        corio::lock l;
        std::vector<int> order;  // written only while holding l
        co_await l.acquire();
        auto waiter = corio::create_task([](corio::lock& l, std::vector<int>& order) -> corio::task<void> {
            auto g = co_await l.scoped();
            order.push_back(2);
        }(l, order));
        co_await corio::sleep(std::chrono::milliseconds(1));  // the waiter waits, or is about to
        order.push_back(1);
        l.release();
        co_await waiter;
        co_return order;
    });
    REQUIRE(order == std::vector<int>{1, 2});
}

TEST_CASE("an acquire loop that never waits still yields to other tasks (coop budget)", "[lock]") {
    // Standalone: one thread, so without the budget the loop below would
    // never let the setter run.
    const bool finished = corio_test::run_in(corio_test::standalone, []() -> corio::task<bool> {
        corio::lock l;
        bool stop = false;
        auto setter = corio::create_task([](bool& stop) -> corio::task<void> {
            stop = true;
            co_return;
        }(stop));
        while (!stop) {
            co_await l.acquire();
            l.release();
        }
        co_await setter;
        co_return !l.locked();
    });
    REQUIRE(finished);
}

TEST_CASE("tasks on several workers never hold the lock at once", "[lock]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto result = corio_test::run_in(mode, []() -> corio::task<std::pair<long, int>> {
        corio::lock l;
        long counter = 0;  // protected only by l
        std::atomic<int> inside{0}, most{0};
        std::vector<corio::task_handle<void>> tasks;
        for (int t = 0; t < 8; ++t)
            tasks.push_back(corio::create_task(
                [](corio::lock& l, long& counter, std::atomic<int>& inside, std::atomic<int>& most) -> corio::task<void> {
                    for (int i = 0; i < 500; ++i) {
                        auto g = co_await l.scoped();
                        const int now = inside.fetch_add(1) + 1;
                        if (now > most.load()) most.store(now);
                        ++counter;
                        if (i % 7 == 0) co_await corio::yield();  // hold it across a suspension sometimes
                        inside.fetch_sub(1);
                    }
                }(l, counter, inside, most)));
        for (auto& t : tasks) co_await t;
        co_return std::pair{counter, most.load()};
    });
    REQUIRE(result.first == 8 * 500);
    REQUIRE(result.second == 1);
}
