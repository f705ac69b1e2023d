// shield: the outer await is cancelled, the shielded task keeps running.
#include "corio/shield.hpp"

#include <catch2/catch.hpp>

#include <atomic>

#include "corio/policy.hpp"
#include "corio/sleep.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {
corio::task<int> slow_value(std::atomic<bool>& finished) {
    co_await corio::sleep(10ms);
    finished = true;
    co_return 7;
}
}  // namespace

TEST_CASE("awaiting a shielded task returns its value", "[shield]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<bool> finished{false};
    const int v = corio_test::run_in(mode, [&]() -> corio::task<int> { co_return co_await corio::shield(slow_value(finished)); });
    REQUIRE(v == 7);
    REQUIRE(finished);
}

TEST_CASE("cancelling the awaiter of a shield leaves the inner task running", "[shield][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<bool> finished{false};
    struct result {
        bool outer_cancelled = false, inner_cancelled = true;
        int inner_value = 0;
    };
    const result r = corio_test::run_in(mode, [&]() -> corio::task<result> {
        auto inner = corio::create_task(slow_value(finished));
        auto outer = corio::create_task([](corio::task_handle<int> h) -> corio::task<int> {
            co_return co_await corio::shield(h);
        }(inner));
        co_await corio::sleep(1ms);
        outer.cancel();
        result res;
        try {
            co_await outer;
        } catch (const corio::cancelled_error&) {
            res.outer_cancelled = true;
        }
        res.inner_value = co_await inner;  // still runs to completion
        res.inner_cancelled = inner.cancelled();
        co_return res;
    });
    REQUIRE(r.outer_cancelled);
    REQUIRE_FALSE(r.inner_cancelled);
    REQUIRE(r.inner_value == 7);
    REQUIRE(finished);
}

TEST_CASE("shield of a lazy task starts it as a task", "[shield]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<bool> finished{false};
    const bool ok = corio_test::run_in(mode, [&]() -> corio::task<bool> {
        auto s = corio::shield(slow_value(finished));
        const bool started = static_cast<bool>(s.handle());
        co_return started && co_await s == 7;
    });
    REQUIRE(ok);
}

TEST_CASE("cancelling the shielded task itself still reaches the awaiter", "[shield][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<bool> finished{false};
    const bool ok = corio_test::run_in(mode, [&]() -> corio::task<bool> {
        auto inner = corio::create_task(slow_value(finished));
        corio::get_running_loop().call_later(1ms, [inner]() mutable { inner.cancel(); });
        try {
            co_await corio::shield(inner);
        } catch (const corio::cancelled_error&) {
            co_return true;
        }
        co_return false;
    });
    REQUIRE(ok);
    REQUIRE_FALSE(finished);
}
