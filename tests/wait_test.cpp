// wait, wait_for, as_completed.
#include "corio/wait.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "corio/policy.hpp"
#include "corio/sleep.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

// Note: wait_options::timeout has no default member initializer, so
// `{.return_when = ...}` alone warns under -Wextra (-Wmissing-field-initializers);
// the tests spell out `.timeout = std::nullopt`.

namespace {
corio::task<int> after(corio::clock::duration d, int v) {
    co_await corio::sleep(d);
    co_return v;
}
corio::task<int> fail_after(corio::clock::duration d) {
    co_await corio::sleep(d);
    throw std::runtime_error("failed");
}
/// Fails once `first` has finished: an order no scheduling delay can swap
/// (timers on two workers can fire in either order on a loaded machine).
corio::task<int> fail_after_task(corio::task_handle<int> first) {
    co_await first;
    throw std::runtime_error("failed");
}
/// Records whether it saw the cancellation at its sleep.
corio::task<int> sleeper(corio::clock::duration d, std::atomic<bool>& cancelled) {
    try {
        co_await corio::sleep(d);
    } catch (const corio::cancelled_error&) {
        cancelled = true;
        throw;
    }
    co_return 1;
}
/// True when its wait of up to an hour for `h` was cancelled.
corio::task<bool> wait_an_hour_for(corio::task_handle<int> h) {
    // Built before the co_await: GCC 12 cannot copy an initializer list's
    // array into a coroutine frame ("array used as initializer").
    std::vector<corio::task_handle<int>> hs{h};
    try {
        co_await corio::wait(hs, {.timeout = 1h});
    } catch (const corio::cancelled_error&) {
        co_return true;
    }
    co_return false;
}
/// wait_for of `h` with an hour to go; the inner task's end decides the rest.
corio::task<int> wait_for_an_hour(corio::task_handle<int> h) { co_return co_await corio::wait_for(h, 1h); }
struct counts {
    std::size_t done = 0, pending = 0;
    bool operator==(const counts&) const = default;
};
template <class T>
counts count(const corio::wait_result<T>& r) {
    return {r.done.size(), r.pending.size()};
}
}  // namespace

TEST_CASE("wait all_completed returns when every task is done", "[wait]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const counts c = corio_test::run_in(mode, []() -> corio::task<counts> {
        std::vector<corio::task_handle<int>> hs{corio::create_task(after(1ms, 1)), corio::create_task(after(3ms, 2)),
                                                corio::create_task(fail_after(2ms))};
        auto r = co_await corio::wait(hs);
        co_return count(r);
    });
    REQUIRE(c == counts{3, 0});
}

TEST_CASE("wait first_completed returns after the first task finishes", "[wait]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct result {
        counts c;
        int first = 0;
    };
    const result r = corio_test::run_in(mode, []() -> corio::task<result> {
        std::vector<corio::task_handle<int>> hs{corio::create_task(after(1h, 1)), corio::create_task(after(1ms, 2))};
        auto w = co_await corio::wait(hs, {.timeout = std::nullopt, .return_when = corio::first_completed});
        result res{count(w), w.done.empty() ? 0 : w.done[0].result()};
        for (auto& h : w.pending) h.cancel();  // wait cancels nothing itself
        co_return res;
    });
    REQUIRE(r.c == counts{1, 1});
    REQUIRE(r.first == 2);
}

TEST_CASE("wait first_exception returns at the first failure", "[wait]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const counts c = corio_test::run_in(mode, []() -> corio::task<counts> {
        auto first = corio::create_task(after(1ms, 1));
        auto failing = corio::create_task(fail_after_task(first));
        std::vector<corio::task_handle<int>> hs{first, failing, corio::create_task(after(1h, 3))};
        auto w = co_await corio::wait(hs, {.timeout = std::nullopt, .return_when = corio::first_exception});
        for (auto& h : w.pending) h.cancel();
        co_return count(w);
    });
    REQUIRE(c == counts{2, 1});
}

TEST_CASE("wait first_exception without failures waits for all", "[wait]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const counts c = corio_test::run_in(mode, []() -> corio::task<counts> {
        std::vector<corio::task_handle<int>> hs{corio::create_task(after(1ms, 1)), corio::create_task(after(2ms, 2))};
        co_return count(co_await corio::wait(hs, {.timeout = std::nullopt, .return_when = corio::first_exception}));
    });
    REQUIRE(c == counts{2, 0});
}

TEST_CASE("wait with a timeout returns the pending tasks and cancels nothing", "[wait][timeout]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct result {
        counts c;
        bool slow_still_running = false;
    };
    const result r = corio_test::run_in(mode, []() -> corio::task<result> {
        std::vector<corio::task_handle<int>> hs{corio::create_task(after(1ms, 1)), corio::create_task(after(1h, 2))};
        auto w = co_await corio::wait(hs, {.timeout = 20ms});
        result res{count(w), !w.pending.empty() && !w.pending[0].done() && !w.pending[0].cancelled()};
        for (auto& h : w.pending) h.cancel();
        co_return res;
    });
    REQUIRE(r.c == counts{1, 1});
    REQUIRE(r.slow_still_running);
}

TEST_CASE("wait first_exception passes over a cancelled task: a cancellation is not an exception", "[wait]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const counts c = corio_test::run_in(mode, []() -> corio::task<counts> {
        auto cancelled = corio::create_task(after(1h, 1));
        cancelled.cancel();
        std::vector<corio::task_handle<int>> hs{cancelled, corio::create_task(after(2ms, 2))};
        co_return count(co_await corio::wait(hs, {.timeout = std::nullopt, .return_when = corio::first_exception}));
    });
    REQUIRE(c == counts{2, 0});
}

TEST_CASE("wait with a zero timeout returns at once with what is done so far", "[wait][timeout]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const counts c = corio_test::run_in(mode, []() -> corio::task<counts> {
        auto done = corio::create_task(after(0ms, 1));
        co_await done;
        std::vector<corio::task_handle<int>> hs{done, corio::create_task(after(1h, 2))};
        auto w = co_await corio::wait(hs, {.timeout = 0ms});
        for (auto& h : w.pending) h.cancel();
        co_return count(w);
    });
    REQUIRE(c == counts{1, 1});
}

TEST_CASE("the timer of a wait that ended early wakes nothing after it", "[wait][timeout]") {
    // The first wait usually ends at 1 ms, leaving its 10 ms timer set
    // while the task awaits a future set at 40 ms; a timer that woke the
    // task again would resume that await with the future still pending.
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int v = corio_test::run_in(mode, []() -> corio::task<int> {
        std::vector<corio::task_handle<int>> hs{corio::create_task(after(1ms, 1))};
        co_await corio::wait(hs, {.timeout = 10ms});
        auto f = corio::get_running_loop().create_future<int>();
        corio::get_running_loop().call_later(40ms, [f]() mutable { f.set_result(7); });
        co_return co_await f;
    });
    REQUIRE(v == 7);
}

TEST_CASE("a task cancelled in a wait with a timeout sees cancelled_error and its tasks run on", "[wait][timeout]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct result {
        bool waiter_saw_cancel = false;
        bool child_running = false;
    };
    const result r = corio_test::run_in(mode, []() -> corio::task<result> {
        auto child = corio::create_task(after(1h, 1));
        auto waiter = corio::create_task(wait_an_hour_for(child));
        co_await corio::sleep(5ms);
        waiter.cancel();
        result res{co_await waiter, !child.done()};
        child.cancel();
        co_return res;
    });
    REQUIRE(r.waiter_saw_cancel);
    REQUIRE(r.child_running);
}

TEST_CASE("wait of no tasks throws std::invalid_argument", "[wait]") {
    auto loop = corio::new_event_loop();
    REQUIRE_THROWS_AS(loop->run_until_complete(corio::wait(std::vector<corio::task_handle<int>>{})),
                      std::invalid_argument);
}

TEST_CASE("wait_for returns the value when it is in time", "[wait_for]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int v = corio_test::run_in(mode, []() -> corio::task<int> {
        const int a = co_await corio::wait_for(after(1ms, 5), 10s);
        auto h = corio::create_task(after(0ms, 6));
        const int b = co_await corio::wait_for(h, 10s);
        co_return a * 10 + b;
    });
    REQUIRE(v == 56);
}

// Regression: with a defaulted `const task_options& opts = {}`, GCC 12
// destroyed that temporary (it holds a std::string) wrongly when the call
// sat inside a co_await expression: a bad free of an address inside the
// coroutine frame. create_task now has an overload without options.
TEST_CASE("create_task inside a co_await argument list does not corrupt memory", "[wait_for][create_task][regression]") {
    auto loop = corio::new_event_loop();
    const int v = loop->run_until_complete([]() -> corio::task<int> {
        co_return co_await corio::wait_for(corio::create_task(after(0ms, 6)), 10s);
    }());
    REQUIRE(v == 6);
}

TEST_CASE("wait_for rethrows the task's exception", "[wait_for]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    REQUIRE_THROWS_WITH(corio_test::run_in(mode, []() -> corio::task<int> {
                            co_return co_await corio::wait_for(fail_after(1ms), 10s);
                        }),
                        "failed");
}

TEST_CASE("wait_for throws timeout_error and cancels the inner task", "[wait_for][timeout]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<bool> inner_cancelled{false};
    struct result {
        bool timed_out = false, handle_cancelled = false;
    };
    const result r = corio_test::run_in(mode, [&]() -> corio::task<result> {
        result res;
        auto h = corio::create_task(sleeper(1h, inner_cancelled));
        try {
            co_await corio::wait_for(h, 5ms);
        } catch (const corio::timeout_error&) {
            res.timed_out = true;
        }
        res.handle_cancelled = h.done() && h.cancelled();  // cancelled and finished before wait_for threw
        co_return res;
    });
    REQUIRE(r.timed_out);
    REQUIRE(r.handle_cancelled);
    REQUIRE(inner_cancelled);
}

TEST_CASE("a task cancelled in wait_for cancels the inner task and returns after its end", "[wait_for]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<bool> inner_cancelled{false};
    struct result {
        bool waiter_saw_cancel = false, inner_ended_first = false;
    };
    const result r = corio_test::run_in(mode, [&]() -> corio::task<result> {
        auto inner = corio::create_task(sleeper(1h, inner_cancelled));
        auto waiter = corio::create_task(wait_for_an_hour(inner));
        co_await corio::sleep(5ms);
        waiter.cancel();
        co_await waiter.wait_done();
        co_return result{waiter.cancelled(), inner.done() && inner.cancelled()};
    });
    REQUIRE(r.waiter_saw_cancel);
    REQUIRE(r.inner_ended_first);
    REQUIRE(inner_cancelled);
}

TEST_CASE("wait_for with a zero timeout returns a finished task's value", "[wait_for][timeout]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int v = corio_test::run_in(mode, []() -> corio::task<int> {
        auto h = corio::create_task(after(0ms, 9));
        co_await h.wait_done();
        co_return co_await corio::wait_for(h, 0ms);
    });
    REQUIRE(v == 9);
}

TEST_CASE("wait_for on a future cancels the future on timeout", "[wait_for][timeout][future]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool ok = corio_test::run_in(mode, []() -> corio::task<bool> {
        auto f = corio::get_running_loop().create_future<int>();
        bool timed_out = false;
        try {
            co_await corio::wait_for(f, 5ms);
        } catch (const corio::timeout_error&) {
            timed_out = true;
        }
        co_return timed_out && f.cancelled();
    });
    REQUIRE(ok);
}

TEST_CASE("wait_for on a future returns its value when it is set in time", "[wait_for][future]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int v = corio_test::run_in(mode, []() -> corio::task<int> {
        auto f = corio::get_running_loop().create_future<int>();
        corio::get_running_loop().call_later(1ms, [f]() mutable { f.set_result(31); });
        co_return co_await corio::wait_for(f, 10s);
    });
    REQUIRE(v == 31);
}

TEST_CASE("as_completed yields results in completion order", "[as_completed]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto order = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        std::vector<corio::task_handle<int>> hs{corio::create_task(after(40ms, 3)), corio::create_task(after(1ms, 1)),
                                                corio::create_task(after(20ms, 2))};
        std::vector<int> out;
        for (auto f : corio::as_completed(hs)) out.push_back(co_await f);
        co_return out;
    });
    REQUIRE(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("as_completed passes exceptions and cancellations through", "[as_completed]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto outcomes = corio_test::run_in(mode, []() -> corio::task<std::vector<std::string>> {
        auto cancelled = corio::create_task(after(1h, 0));
        std::vector<corio::task_handle<int>> hs{corio::create_task(fail_after(10ms)), cancelled,
                                                corio::create_task(after(30ms, 1))};
        cancelled.cancel();
        std::vector<std::string> out;
        for (auto f : corio::as_completed(hs)) {
            try {
                out.push_back(std::to_string(co_await f));
            } catch (const std::runtime_error&) {
                out.push_back("error");
            } catch (const corio::cancelled_error&) {
                out.push_back("cancelled");
            }
        }
        co_return out;
    });
    REQUIRE(outcomes == std::vector<std::string>{"cancelled", "error", "1"});
}
