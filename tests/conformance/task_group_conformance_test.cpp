// asyncio 3.11's structured-concurrency semantics: Task.cancelling() /
// Task.uncancel() counts, and the cases built on them (task groups'
// error and cancellation paths, timeout nesting and foreign cancels).
#include "corio/corio.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "corio/task_group.hpp"
#include "corio/timeout.hpp"

#include "run_modes.hpp"

using namespace std::chrono_literals;

// ---- cancelling() / uncancel() ------------------------------------------------

TEST_CASE("cancelling counts cancel requests and uncancel takes them back", "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto counts = corio_test::run_in(mode, []() -> corio::task<std::vector<std::uint32_t>> {
        auto t = corio::create_task([]() -> corio::task<void> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
                // swallowed: the task goes on, its count does not drop by itself
            }
            co_await corio::sleep(1h);  // the next cancellation ends it
        }());
        co_await corio::sleep(1ms);
        std::vector<std::uint32_t> seen;
        seen.push_back(t.cancelling());  // 0
        t.cancel();
        t.cancel();
        seen.push_back(t.cancelling());  // 2
        co_await corio::sleep(1ms);      // delivered (once) and swallowed
        seen.push_back(t.cancelling());  // still 2: delivery does not take a request back
        seen.push_back(t.uncancel());    // 1
        seen.push_back(t.uncancel());    // 0
        seen.push_back(t.uncancel());    // stays 0
        t.cancel();
        try {
            co_await t;
        } catch (const corio::cancelled_error&) {
        }
        co_return seen;
    });
    REQUIRE(counts == std::vector<std::uint32_t>{0, 2, 2, 1, 0, 0});
}

TEST_CASE("cancel on a done task is not counted", "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto n = corio_test::run_in(mode, []() -> corio::task<std::uint32_t> {
        auto t = corio::create_task([]() -> corio::task<int> { co_return 1; }());
        co_await t;
        const bool refused = !t.cancel();
        co_return refused ? t.cancelling() : 99;
    });
    REQUIRE(n == 0);
}

TEST_CASE("a task's own uncancel to zero drops a request not yet delivered", "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool completed = corio_test::run_in(mode, []() -> corio::task<bool> {
        auto t = corio::create_task([]() -> corio::task<bool> {
            auto self = corio::current_task();
            self.cancel();  // pending: nothing suspended yet
            if (self.uncancel() != 0) co_return false;
            co_await corio::sleep(1ms);  // must not see the withdrawn request
            co_return true;
        }());
        co_return co_await t;
    });
    REQUIRE(completed);
}

TEST_CASE("uncancel from another task leaves a pending request to be delivered", "[cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool cancelled = corio_test::run_in(mode, []() -> corio::task<bool> {
        auto t = corio::create_task([]() -> corio::task<void> { co_await corio::sleep(1h); }());
        co_await corio::sleep(1ms);
        t.cancel();
        t.uncancel();  // the count drops; the wake-up already under way still cancels
        try {
            co_await t;
        } catch (const corio::cancelled_error&) {
            co_return t.cancelled();
        }
        co_return false;
    });
    REQUIRE(cancelled);
}

// ---- timeout scopes ---------------------------------------------------------------

namespace {
enum class ended { value, timeout_error, cancelled_error, exception_group };

std::ostream& operator<<(std::ostream& os, ended e) {
    const char* names[] = {"value", "timeout_error", "cancelled_error", "exception_group"};
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
    } catch (const corio::exception_group&) {
        co_return ended::exception_group;
    }
}

corio::task<void> sleep_forever() { co_await corio::sleep(std::chrono::hours(1)); }

/// Runs `t`, records how it ended in `seen`, and ends the same way.
template <class T>
corio::task<void> observe(corio::task<T> t, ended& seen) {
    std::exception_ptr e;
    try {
        co_await std::move(t);
        seen = ended::value;
        co_return;
    } catch (const corio::timeout_error&) {
        seen = ended::timeout_error;
        e = std::current_exception();
    } catch (const corio::cancelled_error&) {
        seen = ended::cancelled_error;
        e = std::current_exception();
    }
    std::rethrow_exception(e);
}
}  // namespace

TEST_CASE("nested timeouts: an inner expiry converts in the inner scope only", "[timeout][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        ended inner = ended::value, outer = ended::cancelled_error;
        bool inner_expired = false, outer_expired = true;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        auto outer = corio::timeout(1h);
        auto inner = corio::timeout(2ms);
        o.outer = co_await outcome_of(outer.run([](corio::timeout_scope inner, outcome& o) -> corio::task<void> {
            o.inner = co_await outcome_of(inner.run(sleep_forever()));
            co_await corio::sleep(1ms);  // the outer scope goes on undisturbed
        }(inner, o)));
        o.inner_expired = inner.expired();
        o.outer_expired = outer.expired();
        co_return o;
    });
    REQUIRE(r.inner == ended::timeout_error);
    REQUIRE(r.outer == ended::value);
    REQUIRE(r.inner_expired);
    REQUIRE_FALSE(r.outer_expired);
}

TEST_CASE("nested timeouts: an outer expiry passes through the inner scope as cancelled_error",
          "[timeout][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        ended inner = ended::value, outer = ended::value;
        bool inner_expired = true, outer_expired = false;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        auto outer = corio::timeout(2ms);
        auto inner = corio::timeout(1h);
        o.outer = co_await outcome_of(outer.run(observe(inner.run(sleep_forever()), o.inner)));
        o.inner_expired = inner.expired();
        o.outer_expired = outer.expired();
        co_return o;
    });
    REQUIRE(r.inner == ended::cancelled_error);
    REQUIRE(r.outer == ended::timeout_error);
    REQUIRE_FALSE(r.inner_expired);
    REQUIRE(r.outer_expired);
}

TEST_CASE("nested timeouts that both expired: the outermost converts", "[timeout][conformance]") {
    // Standalone only: both timers must fire before the task resumes, which
    // only a single loop's order guarantees.
    auto loop = corio::new_event_loop();
    struct outcome {
        ended inner = ended::value, outer = ended::value;
        bool both_expired = false;
    };
    const auto r = loop->run_until_complete([]() -> corio::task<outcome> {
        outcome o;
        auto outer = corio::timeout(2ms);
        auto inner = corio::timeout(1ms);
        o.outer = co_await outcome_of(outer.run(observe(inner.run([]() -> corio::task<void> {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));  // both deadlines pass
            co_await sleep_forever();
        }()), o.inner)));
        o.both_expired = inner.expired() && outer.expired();
        co_return o;
    }());
    REQUIRE(r.inner == ended::cancelled_error);
    REQUIRE(r.outer == ended::timeout_error);
    REQUIRE(r.both_expired);
}

TEST_CASE("a foreign cancel inside a timeout scope stays cancelled_error", "[timeout][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        ended how = ended::value;
        bool expired = true;
        std::uint32_t cancelling = 0;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        auto o = std::make_shared<outcome>();
        auto t = corio::create_task([](std::shared_ptr<outcome> o) -> corio::task<void> {
            auto scope = corio::timeout(1h);
            o->how = co_await outcome_of(scope.run(sleep_forever()));
            o->expired = scope.expired();
            o->cancelling = corio::current_task().cancelling();
        }(o));
        co_await corio::sleep(1ms);
        t.cancel();
        co_await t;
        co_return *o;
    });
    REQUIRE(r.how == ended::cancelled_error);
    REQUIRE_FALSE(r.expired);
    REQUIRE(r.cancelling == 1);  // the canceller's request is not taken back
}

TEST_CASE("a foreign cancel and an expiry together stay cancelled_error", "[timeout][conformance]") {
    // Standalone: the canceller and the timer both act before the task resumes.
    auto loop = corio::new_event_loop();
    struct outcome {
        ended how = ended::value;
        bool expired = false;
    };
    const auto r = loop->run_until_complete([]() -> corio::task<outcome> {
        auto o = std::make_shared<outcome>();
        auto guarded = corio::create_task([](std::shared_ptr<outcome> o) -> corio::task<void> {
            auto scope = corio::timeout(2ms);
            o->how = co_await outcome_of(scope.run([]() -> corio::task<void> {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the deadline and the canceller's wake-up pass
                co_await sleep_forever();
            }()));
            o->expired = scope.expired();
        }(o));
        co_await corio::sleep(std::chrono::milliseconds(1));
        guarded.cancel();
        co_await guarded;
        co_return *o;
    }());
    REQUIRE(r.how == ended::cancelled_error);
    REQUIRE(r.expired);
}

// ---- task groups ---------------------------------------------------------------------

namespace {
struct failure : std::runtime_error {
    failure() : std::runtime_error("child failed") {}
};
corio::task<void> fail_soon() {
    co_await corio::sleep(std::chrono::milliseconds(1));
    throw failure();
}
}  // namespace

TEST_CASE("a timeout around a task group cancels its children and becomes timeout_error",
          "[task_group][timeout][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        ended how = ended::value;
        bool children_cancelled = false;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        corio::task_group tg;
        std::vector<corio::task_handle<void>> children;
        o.how = co_await outcome_of(corio::timeout(2ms).run(tg.run([&]() -> corio::task<void> {
            for (int i = 0; i < 3; ++i) children.push_back(tg.create_task(sleep_forever()));
            co_return;
        }())));
        o.children_cancelled = true;
        for (auto& c : children) o.children_cancelled = o.children_cancelled && c.cancelled();
        co_return o;
    });
    REQUIRE(r.how == ended::timeout_error);
    REQUIRE(r.children_cancelled);
}

TEST_CASE("an outside cancel during the group's body cancels the children and propagates",
          "[task_group][cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        ended how = ended::value;
        bool children_cancelled = false;
        std::uint32_t cancelling = 0;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        auto o = std::make_shared<outcome>();
        auto parent = corio::create_task([](std::shared_ptr<outcome> o) -> corio::task<void> {
            corio::task_group tg;
            std::vector<corio::task_handle<void>> children;
            o->how = co_await outcome_of(tg.run([&]() -> corio::task<void> {
                for (int i = 0; i < 3; ++i) children.push_back(tg.create_task(sleep_forever()));
                co_await sleep_forever();  // cancelled from outside here
            }()));
            o->children_cancelled = true;
            for (auto& c : children) o->children_cancelled = o->children_cancelled && c.cancelled();
            o->cancelling = corio::current_task().cancelling();
        }(o));
        co_await corio::sleep(std::chrono::milliseconds(1));
        parent.cancel();
        co_await parent;
        co_return *o;
    });
    REQUIRE(r.how == ended::cancelled_error);
    REQUIRE(r.children_cancelled);
    REQUIRE(r.cancelling == 1);
}

TEST_CASE("failures win over an outside cancellation of join", "[task_group][cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const ended how = corio_test::run_in(mode, []() -> corio::task<ended> {
        auto seen = std::make_shared<ended>(ended::value);
        auto parent = corio::create_task([](std::shared_ptr<ended> seen) -> corio::task<void> {
            corio::task_group tg;
            tg.create_task([]() -> corio::task<void> {
                try {
                    co_await sleep_forever();
                } catch (const corio::cancelled_error&) {
                }
                throw failure();  // fails while being cancelled by the parent's cancellation
            }());
            *seen = co_await outcome_of(tg.join());
        }(seen));
        co_await corio::sleep(std::chrono::milliseconds(1));
        parent.cancel();
        co_await parent;
        co_return *seen;
    });
    REQUIRE(how == ended::exception_group);
}

TEST_CASE("an inner group's exception_group is one failure of the outer group", "[task_group][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool nested = corio_test::run_in(mode, []() -> corio::task<bool> {
        corio::task_group outer;
        outer.create_task([]() -> corio::task<void> {
            corio::task_group inner;
            inner.create_task(fail_soon());
            inner.create_task(sleep_forever());
            co_await inner.join();
        }());
        outer.create_task(sleep_forever());
        try {
            co_await outer.join();
        } catch (const corio::exception_group& g) {
            if (g.exceptions().size() != 1) co_return false;
            try {
                std::rethrow_exception(g.exceptions()[0]);
            } catch (const corio::exception_group& inner) {
                co_return inner.exceptions().size() == 1;
            } catch (...) {
            }
        }
        co_return false;
    });
    REQUIRE(nested);
}

TEST_CASE("a failure cancels the parent's body once, and join takes the request back", "[task_group][cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        ended how = ended::value;
        std::uint32_t cancelling_in_body = 0, cancelling_after = 99;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        corio::task_group tg;
        o.how = co_await outcome_of(tg.run([&]() -> corio::task<void> {
            tg.create_task(fail_soon());
            tg.create_task(fail_soon());
            try {
                co_await sleep_forever();
            } catch (const corio::cancelled_error&) {
                o.cancelling_in_body = corio::current_task().cancelling();
                throw;
            }
        }()));
        o.cancelling_after = corio::current_task().cancelling();
        co_return o;
    });
    REQUIRE(r.how == ended::exception_group);
    REQUIRE(r.cancelling_in_body == 1);
    REQUIRE(r.cancelling_after == 0);
}
