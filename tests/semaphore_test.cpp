#include "corio/semaphore.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <vector>

#include "corio/corio.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

TEST_CASE("a semaphore hands out its permits, then locked() says an acquire would wait", "[semaphore]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto seen = corio_test::run_in(mode, []() -> corio::task<std::vector<bool>> {
        corio::semaphore s(2);
        std::vector<bool> r;
        r.push_back(!s.locked());
        co_await s.acquire();
        r.push_back(!s.locked());
        {
            auto g = co_await s.scoped();
            r.push_back(s.locked());
        }
        r.push_back(!s.locked());
        s.release();  // back to 2
        s.release();  // 3: an unbounded semaphore may go above its initial value
        for (int i = 0; i < 3; ++i) co_await s.acquire();
        r.push_back(s.locked());
        co_return r;
    });
    REQUIRE(seen == std::vector<bool>(5, true));
}

TEST_CASE("a negative initial value throws invalid_argument", "[semaphore]") {
    REQUIRE_THROWS_AS(corio::semaphore(-1), std::invalid_argument);
    REQUIRE_THROWS_AS(corio::bounded_semaphore(-1), std::invalid_argument);
    REQUIRE_NOTHROW(corio::semaphore(0));
}

TEST_CASE("bounded_semaphore::release beyond the initial value throws invalid_argument", "[semaphore]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<bool>> {
        corio::bounded_semaphore s(2);
        std::vector<bool> out;
        auto over = [&s] {
            try {
                s.release();
            } catch (const std::invalid_argument&) {
                return true;
            }
            return false;
        };
        out.push_back(over());
        co_await s.acquire();
        co_await s.acquire();
        s.release();
        s.release();
        out.push_back(over());
        out.push_back(!s.locked());
        co_return out;
    });
    REQUIRE(r == std::vector<bool>(3, true));
}

TEST_CASE("never more holders than permits, with the holders on several workers", "[semaphore]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::pair<int, int>> {
        corio::semaphore s(3);
        std::atomic<int> inside{0}, most{0}, done{0};
        std::vector<corio::task_handle<void>> tasks;
        for (int t = 0; t < 12; ++t)
            tasks.push_back(corio::create_task([](corio::semaphore& s, std::atomic<int>& inside, std::atomic<int>& most,
                                                  std::atomic<int>& done) -> corio::task<void> {
                for (int i = 0; i < 200; ++i) {
                    auto g = co_await s.scoped();
                    const int now = inside.fetch_add(1) + 1;
                    int seen = most.load();
                    while (now > seen && !most.compare_exchange_weak(seen, now)) {
                    }
                    co_await corio::yield();
                    inside.fetch_sub(1);
                    done.fetch_add(1);
                }
            }(s, inside, most, done)));
        for (auto& t : tasks) co_await t;
        co_return std::pair{most.load(), done.load()};
    });
    REQUIRE(r.first <= 3);
    REQUIRE(r.first >= 1);
    REQUIRE(r.second == 12 * 200);
}
