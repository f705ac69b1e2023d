#include "corio/barrier.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <vector>

#include "corio/corio.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {
/// Waits on `b`; broken_barrier_error becomes -1.
corio::task<long> wait_or_broken(corio::barrier& b) {
    try {
        co_return static_cast<long>(co_await b.wait());
    } catch (const corio::broken_barrier_error&) {
        co_return -1;
    }
}

/// Yields until `n` parties wait in `b`.
corio::task<void> until_waiting(corio::barrier& b, std::size_t n) {
    while (b.n_waiting() < n) co_await corio::sleep(100us);
}
}  // namespace

TEST_CASE("a barrier needs at least one party", "[barrier]") {
    REQUIRE_THROWS_AS(corio::barrier(0), std::invalid_argument);
    REQUIRE_THROWS_AS(corio::barrier(-3), std::invalid_argument);
    corio::barrier b(3);
    REQUIRE(b.parties() == 3);
    REQUIRE(b.n_waiting() == 0);
    REQUIRE_FALSE(b.broken());
}

TEST_CASE("a one-party barrier passes at once with index 0", "[barrier]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<std::size_t>> {
        corio::barrier b(1);
        std::vector<std::size_t> out;
        for (int i = 0; i < 3; ++i) out.push_back(co_await b.wait());
        co_return out;
    });
    REQUIRE(r == std::vector<std::size_t>{0, 0, 0});
}

TEST_CASE("wait returns each party's arrival index once all have arrived", "[barrier]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<long>> {
        corio::barrier b(4);
        std::vector<corio::task_handle<long>> parties;
        for (int i = 0; i < 3; ++i) parties.push_back(corio::create_task(wait_or_broken(b)));
        co_await until_waiting(b, 3);
        std::vector<long> out;
        out.push_back(co_await wait_or_broken(b));  // the last to arrive
        for (auto& p : parties) out.push_back(co_await p);
        out.push_back(static_cast<long>(b.n_waiting()));
        co_return out;
    });
    REQUIRE(r[0] == 3);
    std::vector<long> others(r.begin() + 1, r.end() - 1);
    std::sort(others.begin(), others.end());
    REQUIRE(others == std::vector<long>{0, 1, 2});
    REQUIRE(r.back() == 0);
}

TEST_CASE("every cycle hands out each index once: no party enters a cycle before the last one drained",
          "[barrier]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    constexpr int parties = 5, rounds = 50;
    const auto bad = corio_test::run_in(mode, []() -> corio::task<int> {
        corio::barrier b(parties);
        std::vector<std::atomic<int>> arrived(rounds), index_seen(rounds * parties);
        std::atomic<int> bad{0};
        std::vector<corio::task_handle<void>> tasks;
        for (int p = 0; p < parties; ++p)
            tasks.push_back(corio::create_task([](corio::barrier& b, std::vector<std::atomic<int>>& arrived,
                                                  std::vector<std::atomic<int>>& index_seen,
                                                  std::atomic<int>& bad) -> corio::task<void> {
                for (int r = 0; r < rounds; ++r) {
                    arrived[r].fetch_add(1);
                    const std::size_t index = co_await b.wait();
                    if (arrived[r].load() != parties || index >= parties) bad.fetch_add(1);  // released early
                    else index_seen[r * parties + static_cast<int>(index)].fetch_add(1);
                    if (r % 3 == 0) co_await corio::yield();
                }
            }(b, arrived, index_seen, bad)));
        for (auto& t : tasks) co_await t;
        // A party that re-entered before the cycle drained would have taken
        // an index of the cycle it left (asyncio counts parties inside wait()).
        for (auto& seen : index_seen) bad += seen.load() != 1;
        co_return bad.load();
    });
    REQUIRE(bad == 0);
}

TEST_CASE("abort breaks the barrier for waiting and later parties; reset mends it", "[barrier]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<long>> {
        corio::barrier b(3);
        std::vector<long> out;
        auto w1 = corio::create_task(wait_or_broken(b));
        auto w2 = corio::create_task(wait_or_broken(b));
        co_await until_waiting(b, 2);
        co_await b.abort();
        out.push_back(co_await w1);
        out.push_back(co_await w2);
        out.push_back(b.broken() ? 1 : 0);
        out.push_back(co_await wait_or_broken(b));  // still broken
        co_await b.reset();
        out.push_back(b.broken() ? 1 : 0);
        auto w3 = corio::create_task(wait_or_broken(b));
        auto w4 = corio::create_task(wait_or_broken(b));
        const long mine = co_await wait_or_broken(b);
        out.push_back(mine + co_await w3 + co_await w4);  // 0 + 1 + 2
        co_return out;
    });
    REQUIRE(r == std::vector<long>{-1, -1, 1, -1, 0, 3});
}

TEST_CASE("reset under waiting parties gives them broken_barrier_error and empties the barrier", "[barrier]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<long>> {
        corio::barrier b(3);
        auto w1 = corio::create_task(wait_or_broken(b));
        auto w2 = corio::create_task(wait_or_broken(b));
        co_await until_waiting(b, 2);
        co_await b.reset();
        std::vector<long> out;
        out.push_back(co_await w1);
        out.push_back(co_await w2);
        out.push_back(static_cast<long>(b.n_waiting()));
        out.push_back(b.broken() ? 1 : 0);
        co_return out;
    });
    REQUIRE(r == std::vector<long>{-1, -1, 0, 0});
}

TEST_CASE("a cancelled party leaves the barrier", "[barrier][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<long>> {
        corio::barrier b(2);
        auto w = corio::create_task(wait_or_broken(b));
        co_await until_waiting(b, 1);
        w.cancel();
        long cancelled = 0;
        try {
            co_await w;
        } catch (const corio::cancelled_error&) {
            cancelled = 1;
        }
        std::vector<long> out{cancelled, static_cast<long>(b.n_waiting())};
        auto other = corio::create_task(wait_or_broken(b));
        out.push_back(co_await wait_or_broken(b) + co_await other);  // a fresh pair: 0 + 1
        co_return out;
    });
    REQUIRE(r == std::vector<long>{1, 0, 1});
}
