// asyncio.gather semantics, on a standalone loop and on a 2-worker runtime.
#include "corio/corio.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {
corio::task<int> after(corio::clock::duration d, int v) {
    co_await corio::sleep(d);
    co_return v;
}
struct flags {
    std::atomic<int> cancelled{0};
    std::atomic<int> finished{0};
};
/// Sleeps `d`, then returns `v`; counts how it ended.
corio::task<int> watched(corio::clock::duration d, int v, flags& f) {
    try {
        co_await corio::sleep(d);
    } catch (const corio::cancelled_error&) {
        ++f.cancelled;
        throw;
    }
    ++f.finished;
    co_return v;
}
corio::task<int> fail_after(corio::clock::duration d) {
    co_await corio::sleep(d);
    throw std::runtime_error("child failed");
}
}  // namespace

TEST_CASE("gather returns results in argument order whatever the completion order", "[gather][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::tuple<int, int, int, std::vector<int>>> {
        auto [a, b, c] = co_await corio::gather(after(30ms, 1), after(10ms, 2), after(20ms, 3));
        std::vector<corio::task<int>> many;
        for (int i = 0; i < 10; ++i) many.push_back(after(((i * 7) % 10) * 1ms, i));  // scrambled deadlines
        co_return std::tuple{a, b, c, co_await corio::gather(std::move(many))};
    });
    REQUIRE(std::get<0>(r) == 1);
    REQUIRE(std::get<1>(r) == 2);
    REQUIRE(std::get<2>(r) == 3);
    REQUIRE(std::get<3>(r) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("gather propagates a first child's exception and cancels the other children", "[gather][conformance][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    flags f;
    const bool threw = corio_test::run_in(mode, [&]() -> corio::task<bool> {
        try {
            co_await corio::gather(fail_after(2ms), watched(1h, 1, f), watched(1h, 3, f));
        } catch (const std::runtime_error&) {
            co_return true;
        }
        co_return false;
    });
    REQUIRE(threw);
    REQUIRE(f.cancelled == 2);  // and (corio) both were awaited before gather threw
    REQUIRE(f.finished == 0);
}

// asyncio propagates the first exception as soon as it happens, whatever
// the failing child's position. The siblings sleep an hour: if gather
// waited for them, the test would time out; the counts show they were
// cancelled instead.
TEST_CASE("gather propagates the first exception at once, whatever the failing child's position",
          "[gather][conformance][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    flags f;
    const bool threw = corio_test::run_in(mode, [&]() -> corio::task<bool> {
        try {
            co_await corio::gather(watched(1h, 1, f), fail_after(2ms), watched(1h, 3, f));
        } catch (const std::runtime_error&) {
            co_return true;
        }
        co_return false;
    });
    REQUIRE(threw);
    CHECK(f.cancelled == 2);
    CHECK(f.finished == 0);
}

TEST_CASE("gather of a vector propagates a failure at once and cancels the rest",
          "[gather][conformance][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    flags f;
    const bool threw = corio_test::run_in(mode, [&]() -> corio::task<bool> {
        std::vector<corio::task<int>> children;
        for (int i = 0; i < 5; ++i) children.push_back(watched(1h, i, f));
        children.push_back(fail_after(1ms));
        try {
            co_await corio::gather(std::move(children));
        } catch (const std::runtime_error&) {
            co_return true;
        }
        co_return false;
    });
    REQUIRE(threw);
    CHECK(f.cancelled == 5);
}

TEST_CASE("cancelling a gather or a gather_settled cancels its children", "[gather][gather_settled][conformance][cancel]") {
    // asyncio: "If gather() is cancelled, all submitted awaitables (that
    // have not completed yet) are also cancelled", return_exceptions or
    // not. (gather_settled once waited for them instead: an hour here.)
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool settled = GENERATE(false, true);
    flags f;
    const bool outer_cancelled = corio_test::run_in(mode, [&]() -> corio::task<bool> {
        auto g = corio::create_task([](flags& fl, bool settled) -> corio::task<void> {
            if (settled) co_await corio::gather_settled(watched(1h, 1, fl), watched(1h, 2, fl));
            else co_await corio::gather(watched(1h, 1, fl), watched(1h, 2, fl));
        }(f, settled));
        co_await corio::sleep(2ms);
        g.cancel();
        try {
            co_await g;
        } catch (const corio::cancelled_error&) {
            co_return true;
        }
        co_return false;
    });
    REQUIRE(outer_cancelled);
    REQUIRE(f.cancelled == 2);
    REQUIRE(f.finished == 0);
}

TEST_CASE("a cancelled child makes gather throw cancelled_error", "[gather][conformance][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool saw_cancel = corio_test::run_in(mode, []() -> corio::task<bool> {
        auto self_cancelling = []() -> corio::task<int> {
            co_await corio::sleep(1ms);
            corio::current_task().cancel();
            co_await corio::yield();
            co_return 0;
        };
        try {
            co_await corio::gather(self_cancelling(), after(1h, 2));
        } catch (const corio::cancelled_error&) {
            co_return true;
        }
        co_return false;
    });
    REQUIRE(saw_cancel);
}
