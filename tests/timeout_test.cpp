#include "corio/timeout.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "corio/corio.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {
corio::task<int> value_after(int v, corio::clock::duration d) {
    co_await corio::sleep(d);
    co_return v;
}

/// What a guarded run ended with.
enum class ended { value, timeout_error, cancelled_error };

std::ostream& operator<<(std::ostream& os, ended e) {
    const char* names[] = {"value", "timeout_error", "cancelled_error"};
    return os << names[static_cast<int>(e)];
}

template <class T>
corio::task<ended> outcome_of(corio::task<T> t) {
    try {
        co_await std::move(t);
        co_return ended::value;
    } catch (const corio::timeout_error&) {
        co_return ended::timeout_error;
    } catch (const corio::cancelled_error&) {
        co_return ended::cancelled_error;
    }
}
}  // namespace

TEST_CASE("work that outlives the deadline is cancelled and run throws timeout_error", "[timeout]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        ended how = ended::value;
        bool work_saw_cancel = false;
        bool expired = false;
        std::uint32_t cancelling_after = 99;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        auto scope = corio::timeout(2ms);
        o.how = co_await outcome_of(scope.run([](bool& saw) -> corio::task<void> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
                saw = true;
                throw;
            }
        }(o.work_saw_cancel)));
        o.expired = scope.expired();
        o.cancelling_after = corio::current_task().cancelling();
        co_return o;
    });
    REQUIRE(r.how == ended::timeout_error);
    REQUIRE(r.work_saw_cancel);
    REQUIRE(r.expired);
    REQUIRE(r.cancelling_after == 0);
}

TEST_CASE("work that finishes in time returns its value and leaves no timer behind", "[timeout]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        int value = 0;
        bool expired = true;
        bool later_sleep_completed = false;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        auto scope = corio::timeout(5ms);
        o.value = co_await scope.run(value_after(7, 0ms));
        o.expired = scope.expired();
        co_await corio::sleep(15ms);  // past the old deadline: nothing may cancel us now
        o.later_sleep_completed = true;
        co_return o;
    });
    REQUIRE(r.value == 7);
    REQUIRE_FALSE(r.expired);
    REQUIRE(r.later_sleep_completed);
}

TEST_CASE("a temporary scope guards the work it runs", "[timeout]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::pair<int, ended>> {
        const int v = co_await corio::timeout(1h).run(value_after(3, 1ms));
        const ended e = co_await outcome_of(corio::timeout(1ms).run(value_after(4, 1h)));
        co_return std::pair{v, e};
    });
    REQUIRE(r.first == 3);
    REQUIRE(r.second == ended::timeout_error);
}

TEST_CASE("when, reschedule and never", "[timeout]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        bool never_at_first = false;
        bool when_set = false;
        ended rescheduled_nearer = ended::value;
        ended rescheduled_later = ended::timeout_error;
        ended disarmed = ended::timeout_error;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        {
            auto scope = corio::timeout(std::nullopt);
            o.never_at_first = !scope.when().has_value();
            const auto t = corio::get_running_loop().time() + 2ms;
            // From inside the work, as `async with timeout(None) as cm: cm.reschedule(...)`.
            o.rescheduled_nearer = co_await outcome_of(scope.run([](corio::timeout_scope s, corio::clock::time_point t) -> corio::task<void> {
                s.reschedule(t);
                co_await corio::sleep(1h);
            }(scope, t)));
            o.when_set = scope.when() == t;
        }
        {
            auto scope = corio::timeout(2ms);
            o.rescheduled_later = co_await outcome_of(scope.run([](corio::timeout_scope s) -> corio::task<void> {
                s.reschedule(corio::get_running_loop().time() + 1h);
                co_await corio::sleep(10ms);  // past the first deadline
            }(scope)));
        }
        {
            auto scope = corio::timeout(2ms);
            o.disarmed = co_await outcome_of(scope.run([](corio::timeout_scope s) -> corio::task<void> {
                s.reschedule(std::nullopt);
                co_await corio::sleep(10ms);
            }(scope)));
        }
        co_return o;
    });
    REQUIRE(r.never_at_first);
    REQUIRE(r.when_set);
    REQUIRE(r.rescheduled_nearer == ended::timeout_error);
    REQUIRE(r.rescheduled_later == ended::value);
    REQUIRE(r.disarmed == ended::value);
}

TEST_CASE("timeout_at takes a loop-clock deadline; a past one still lets work that never suspends finish",
          "[timeout]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::pair<ended, ended>> {
        const auto past = corio::get_running_loop().time() - 1s;
        const ended quick = co_await outcome_of(corio::timeout_at(past).run([]() -> corio::task<int> { co_return 1; }()));
        const ended slow = co_await outcome_of(corio::timeout_at(past).run(value_after(1, 1h)));
        co_return std::pair{quick, slow};
    });
    REQUIRE(r.first == ended::value);
    REQUIRE(r.second == ended::timeout_error);
}

TEST_CASE("reschedule after the scope expired or was left, and a second run, throw", "[timeout]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<int> {
        int refused = 0;
        auto expired = corio::timeout(1ms);
        co_await outcome_of(expired.run(value_after(0, 1h)));
        try {
            expired.reschedule(std::nullopt);
        } catch (const std::runtime_error&) {
            ++refused;
        }
        auto left = corio::timeout(1h);
        co_await left.run(value_after(0, 0ms));
        try {
            left.reschedule(std::nullopt);
        } catch (const std::runtime_error&) {
            ++refused;
        }
        try {
            co_await left.run(value_after(0, 0ms));
        } catch (const std::runtime_error&) {
            ++refused;
        }
        auto before = corio::timeout(1h);
        before.reschedule(std::nullopt);  // allowed before run(): sets when()
        if (!before.when()) ++refused;
        co_return refused;
    });
    REQUIRE(r == 4);
}

TEST_CASE("an expiry the work swallowed leaves the work's result and no pending cancellation", "[timeout]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        int value = 0;
        bool expired = false;
        bool later_sleep_completed = false;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        auto scope = corio::timeout(1ms);
        o.value = co_await scope.run([]() -> corio::task<int> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
            }
            co_return 5;
        }());
        o.expired = scope.expired();
        co_await corio::sleep(1ms);
        o.later_sleep_completed = true;
        co_return o;
    });
    REQUIRE(r.value == 5);
    REQUIRE(r.expired);
    REQUIRE(r.later_sleep_completed);
}

TEST_CASE("an expiry racing with the work's last step cancels nothing after the scope", "[timeout]") {
    // The deadline passes while the work runs without suspending: the timer
    // fires after the work finished and before (or as) the scope is left.
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool ok = corio_test::run_in(mode, []() -> corio::task<bool> {
        for (int i = 0; i < 20; ++i) {
            auto scope = corio::timeout(100us);
            co_await scope.run([]() -> corio::task<void> {
                std::this_thread::sleep_for(200us);  // busy past the deadline
                co_return;
            }());
            co_await corio::sleep(1ms);  // must not see a stray cancellation
        }
        co_return corio::current_task().cancelling() == 0;
    });
    REQUIRE(ok);
}

TEST_CASE("a guarded task that hops between workers still times out", "[timeout]") {
    const bool ok = corio::run(
        []() -> corio::task<bool> {
            std::vector<corio::task_handle<ended>> hs;
            for (int i = 0; i < 16; ++i)
                hs.push_back(corio::create_task(outcome_of(corio::timeout(3ms).run([]() -> corio::task<void> {
                    for (;;) co_await corio::yield();  // may resume on any of the 4 workers
                }()))));
            bool all = true;
            for (auto& h : hs) all = all && (co_await h) == ended::timeout_error;
            co_return all;
        }(),
        corio::run_options{.workers = 4});
    REQUIRE(ok);
}
