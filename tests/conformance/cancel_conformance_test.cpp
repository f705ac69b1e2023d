// asyncio's cancellation semantics: Task.cancel(), CancelledError at the
// suspension point, wait_for's timeout, shield.
#include "corio/corio.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {
struct observed {
    std::atomic<bool> started{false};
    std::atomic<bool> saw_cancel{false};
    std::atomic<bool> passed{false};  // got past the suspension point
};

enum class point { sleep, future, task, yield };

std::ostream& operator<<(std::ostream& os, point p) {
    const char* names[] = {"sleep", "future", "another task", "yield"};
    return os << names[static_cast<int>(p)];
}

/// Suspends at `p` until cancelled, recording what it saw.
corio::task<void> suspend_at(point p, observed& o) {
    auto fut = corio::get_running_loop().create_future<int>();  // never set
    auto other = corio::create_task([]() -> corio::task<void> { co_await corio::sleep(1h); }());
    o.started = true;
    try {
        switch (p) {
            case point::sleep: co_await corio::sleep(1h); break;
            case point::future: co_await fut; break;
            case point::task: co_await other; break;
            case point::yield:
                for (;;) co_await corio::yield();
        }
        o.passed = true;
    } catch (const corio::cancelled_error&) {
        o.saw_cancel = true;
        other.cancel();
        throw;
    }
}

corio::task<void> wait_started(const observed& o) {
    while (!o.started) co_await corio::sleep(100us);
    co_await corio::sleep(1ms);  // and reached its suspension point
}
}  // namespace

TEST_CASE("cancel on a pending task returns true and it sees cancelled_error where it is suspended",
          "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const point where = GENERATE(point::sleep, point::future, point::task, point::yield);
    CAPTURE(mode, where);
    observed o;
    struct result {
        bool cancel_returned = false, await_threw = false, cancelled = false, second_cancel = true;
    };
    const result r = corio_test::run_in(mode, [&]() -> corio::task<result> {
        result res;
        auto h = corio::create_task(suspend_at(where, o));
        co_await wait_started(o);
        res.cancel_returned = h.cancel();
        try {
            co_await h;
        } catch (const corio::cancelled_error&) {
            res.await_threw = true;
        }
        res.cancelled = h.cancelled();
        res.second_cancel = h.cancel();
        co_return res;
    });
    REQUIRE(r.cancel_returned);
    REQUIRE(r.await_threw);
    REQUIRE(r.cancelled);
    REQUIRE_FALSE(r.second_cancel);  // done now
    REQUIRE(o.saw_cancel);
    REQUIRE_FALSE(o.passed);
}

TEST_CASE("cancel on a done task returns false", "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool r = corio_test::run_in(mode, []() -> corio::task<bool> {
        auto h = corio::create_task([]() -> corio::task<int> { co_return 1; }());
        co_await h;
        co_return h.cancel() || h.cancelled();
    });
    REQUIRE_FALSE(r);
}

TEST_CASE("a task may catch cancelled_error, clean up, and still end cancelled", "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<bool> cleaned{false};
    const bool cancelled = corio_test::run_in(mode, [&]() -> corio::task<bool> {
        auto h = corio::create_task([](std::atomic<bool>& c) -> corio::task<void> {
            std::exception_ptr e;
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
                e = std::current_exception();
            }
            co_await corio::sleep(1ms);  // cleanup may await (after the handler)
            c = true;
            std::rethrow_exception(e);
        }(cleaned));
        co_await corio::sleep(1ms);
        h.cancel();
        co_await h.wait_done();
        co_return h.cancelled();
    });
    REQUIRE(cleaned);
    REQUIRE(cancelled);
}

TEST_CASE("a task that swallows cancelled_error finishes normally", "[cancel][conformance]") {
    // asyncio: a task that catches CancelledError and returns is not cancelled.
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int v = corio_test::run_in(mode, []() -> corio::task<int> {
        auto h = corio::create_task([]() -> corio::task<int> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
                co_return 42;
            }
            co_return 0;
        }());
        co_await corio::sleep(1ms);
        h.cancel();
        const int r = co_await h;
        co_return h.cancelled() ? -1 : r;
    });
    REQUIRE(v == 42);
}

TEST_CASE("awaiting a cancelled task throws cancelled_error", "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int caught = corio_test::run_in(mode, []() -> corio::task<int> {
        auto h = corio::create_task([]() -> corio::task<int> {
            co_await corio::sleep(1h);
            co_return 1;
        }());
        co_await corio::sleep(1ms);
        h.cancel();
        int n = 0;
        for (int i = 0; i < 2; ++i) {  // every await of it, not only the first
            try {
                co_await h;
            } catch (const corio::cancelled_error&) {
                ++n;
            }
        }
        try {
            h.result();
        } catch (const corio::cancelled_error&) {
            ++n;
        }
        co_return n;
    });
    REQUIRE(caught == 3);
}

TEST_CASE("a task cancelled before it starts never runs its body", "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<bool> ran{false};
    const bool cancelled = corio_test::run_in(mode, [&]() -> corio::task<bool> {
        auto h = corio::create_task([](std::atomic<bool>& r) -> corio::task<void> {
            r = true;
            co_return;
        }(ran), {.name = "", .pinned = true});  // pinned: no other worker can start it first
        const bool ok = h.cancel();  // before the loop got to it
        co_await h.wait_done();
        co_return ok && h.cancelled();
    });
    REQUIRE(cancelled);
    REQUIRE_FALSE(ran);
}

TEST_CASE("cancelling a task that awaits another task cancels the awaited one too", "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    observed inner_obs;
    const bool both = corio_test::run_in(mode, [&]() -> corio::task<bool> {
        auto inner = corio::create_task(suspend_at(point::sleep, inner_obs));
        auto outer = corio::create_task([](corio::task_handle<void> i) -> corio::task<void> { co_await i; }(inner));
        co_await wait_started(inner_obs);
        outer.cancel();
        co_await outer.wait_done();
        co_await inner.wait_done();
        co_return outer.cancelled() && inner.cancelled();
    });
    REQUIRE(both);
    REQUIRE(inner_obs.saw_cancel);
}

namespace {
/// Sleeps an hour; cancelled, it cleans up for `cleanup` (awaiting) and
/// then ends cancelled, or, with `swallow`, returns 42.
corio::task<int> slow_to_cancel(corio::clock::duration cleanup, bool swallow, std::atomic<bool>& cleaned) {
    bool cancelled = false;
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        cancelled = true;
    }
    if (cancelled) {
        co_await corio::sleep(cleanup);
        cleaned = true;
        if (!swallow) throw corio::cancelled_error();
        co_return 42;
    }
    co_return 1;
}
/// Awaits `h` and reports whether `h` was done when the await ended.
corio::task<int> await_and_check(corio::task_handle<int> h, std::atomic<bool>& awaited_done) {
    int v = 0;
    try {
        v = co_await h;
    } catch (const corio::cancelled_error&) {
        awaited_done = h.done();
        throw;
    }
    awaited_done = h.done();
    co_return v;
}
}  // namespace

TEST_CASE("cancelling a task that awaits another task waits for that task's end and ends as it did",
          "[cancel][conformance]") {
    // asyncio: the cancel goes to the awaited task, and the awaiting one
    // ends when that has finished its cleanup: cancelled if it was, with its
    // value (and not cancelled, though counted) if it swallowed the cancel.
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool swallow = GENERATE(false, true);
    std::atomic<bool> cleaned{false}, awaited_done{false};
    struct result {
        int value = 0;
        bool outer_cancelled = false, inner_cancelled = false;
        std::uint32_t outer_cancelling = 0;
    };
    const result r = corio_test::run_in(mode, [&]() -> corio::task<result> {
        auto inner = corio::create_task(slow_to_cancel(5ms, swallow, cleaned));
        auto outer = corio::create_task(await_and_check(inner, awaited_done));
        co_await corio::sleep(2ms);
        outer.cancel();
        co_await outer.wait_done();
        co_return result{outer.cancelled() ? -1 : outer.result(), outer.cancelled(), inner.cancelled(),
                         outer.cancelling()};
    });
    REQUIRE(awaited_done);  // the outer await ended after the inner task did
    REQUIRE(cleaned);
    REQUIRE(r.outer_cancelling == 1);
    REQUIRE(r.outer_cancelled == !swallow);
    REQUIRE(r.inner_cancelled == !swallow);
    if (swallow) REQUIRE(r.value == 42);
}

TEST_CASE("a cancel pending when a task starts awaiting another goes to that one", "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<bool> cleaned{false};
    struct result {
        bool outer_cancelled = false, inner_cancelled = false;
    };
    const result r = corio_test::run_in(mode, [&]() -> corio::task<result> {
        auto inner = corio::create_task(slow_to_cancel(1ms, false, cleaned));
        co_await corio::sleep(1ms);  // inner is asleep
        auto outer = corio::create_task([](corio::task_handle<int> i) -> corio::task<int> {
            corio::current_task().cancel();  // pending when it starts to await
            co_return co_await i;
        }(inner));
        co_await outer.wait_done();
        co_return result{outer.cancelled(), inner.done() && inner.cancelled()};
    });
    REQUIRE(r.outer_cancelled);
    REQUIRE(r.inner_cancelled);
    REQUIRE(cleaned);
}

TEST_CASE("a cancel passes down a chain of tasks each awaiting the next", "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<bool> cleaned{false}, b_saw_c_done{false}, a_saw_b_done{false};
    struct result {
        bool a = false, b = false, c = false;
        std::uint32_t a_count = 0, b_count = 0, c_count = 0;
    };
    const result r = corio_test::run_in(mode, [&]() -> corio::task<result> {
        auto c = corio::create_task(slow_to_cancel(2ms, false, cleaned));
        auto b = corio::create_task(await_and_check(c, b_saw_c_done));
        auto a = corio::create_task(await_and_check(b, a_saw_b_done));
        co_await corio::sleep(2ms);
        a.cancel();
        co_await a.wait_done();
        co_return result{a.cancelled(), b.cancelled(), c.cancelled(), a.cancelling(), b.cancelling(), c.cancelling()};
    });
    REQUIRE(r.a);
    REQUIRE(r.b);
    REQUIRE(r.c);
    REQUIRE(cleaned);
    REQUIRE(b_saw_c_done);
    REQUIRE(a_saw_b_done);
    // Each was asked once (asyncio's counts: the cancel is counted where it passes).
    REQUIRE(r.a_count == 1);
    REQUIRE(r.b_count == 1);
    REQUIRE(r.c_count == 1);
}

TEST_CASE("a task's context_var values are its own again after a cancel passed on from its await",
          "[cancel][conformance][context_var]") {
    // The context slot holds the awaited task during such a wait.
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    static corio::context_var<int> marker("marker", 0);
    std::atomic<bool> cleaned{false};
    struct result {
        int after_value = 0, after_cancel = 0;
    };
    const result r = corio_test::run_in(mode, [&]() -> corio::task<result> {
        const auto marked_await = [](corio::task_handle<int> h, int mark) -> corio::task<int> {
            marker.set(mark);
            try {
                co_await h;
            } catch (const corio::cancelled_error&) {
            }
            co_return marker.get();
        };
        auto swallower = corio::create_task(slow_to_cancel(1ms, true, cleaned));
        auto thrower = corio::create_task(slow_to_cancel(1ms, false, cleaned));
        auto a = corio::create_task(marked_await(swallower, 7));
        auto b = corio::create_task(marked_await(thrower, 8));
        co_await corio::sleep(2ms);
        a.cancel();
        b.cancel();
        co_return result{co_await a, co_await b};
    });
    REQUIRE(r.after_value == 7);
    REQUIRE(r.after_cancel == 8);
}

TEST_CASE("a cancellation requested while a task runs is seen at its next suspension point",
          "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct result {
        bool ran_on = false, saw = false;
    };
    const result r = corio_test::run_in(mode, []() -> corio::task<result> {
        result res;
        corio::current_task().cancel();
        res.ran_on = true;  // no exception until we suspend
        try {
            co_await corio::sleep(1h);
        } catch (const corio::cancelled_error&) {
            res.saw = true;
        }
        co_return res;
    });
    REQUIRE(r.ran_on);
    REQUIRE(r.saw);
}

TEST_CASE("wait_for cancels the inner task on timeout, then throws timeout_error", "[wait_for][conformance][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    observed o;
    const bool timed_out = corio_test::run_in(mode, [&]() -> corio::task<bool> {
        try {
            co_await corio::wait_for(suspend_at(point::sleep, o), 5ms);
        } catch (const corio::timeout_error&) {
            co_return o.saw_cancel.load();  // already cancelled and finished when it throws
        }
        co_return false;
    });
    REQUIRE(timed_out);
    REQUIRE(o.saw_cancel);
}

TEST_CASE("timeout_error is a std::exception but cancelled_error is not", "[errors][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const std::string how = corio_test::run_in(mode, []() -> corio::task<std::string> {
        auto h = corio::create_task([]() -> corio::task<std::string> {
            try {
                co_await corio::sleep(1h);
            } catch (const std::exception&) {
                co_return "swallowed by std::exception";
            }
            co_return "not thrown";
        }());
        co_await corio::sleep(1ms);
        h.cancel();
        try {
            co_return co_await h;
        } catch (const corio::cancelled_error&) {
            co_return "cancelled";
        }
    });
    REQUIRE(how == "cancelled");
}

TEST_CASE("shield keeps the inner task running when the outer task is cancelled", "[shield][conformance][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<bool> inner_finished{false};
    struct result {
        bool outer_cancelled = false;
        int inner = 0;
    };
    const result r = corio_test::run_in(mode, [&]() -> corio::task<result> {
        auto inner = corio::create_task([](std::atomic<bool>& f) -> corio::task<int> {
            co_await corio::sleep(10ms);
            f = true;
            co_return 5;
        }(inner_finished));
        auto outer = corio::create_task([](corio::task_handle<int> i) -> corio::task<int> {
            co_return co_await corio::shield(i);
        }(inner));
        co_await corio::sleep(1ms);
        outer.cancel();
        result res;
        co_await outer.wait_done();
        res.outer_cancelled = outer.cancelled();
        res.inner = co_await inner;
        co_return res;
    });
    REQUIRE(r.outer_cancelled);
    REQUIRE(r.inner == 5);
    REQUIRE(inner_finished);
}
