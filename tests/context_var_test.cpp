#include "corio/context_var.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "corio/corio.hpp"
#include "corio/task_group.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

TEST_CASE("get, set and reset on the thread's context", "[context_var]") {
    corio::context_var<int> with_default("with_default", 1);
    corio::context_var<std::string> without("without");
    REQUIRE(with_default.name() == "with_default");
    REQUIRE(with_default.get() == 1);
    REQUIRE_THROWS_AS(without.get(), std::out_of_range);
    REQUIRE(without.get("fallback") == "fallback");

    auto t1 = with_default.set(2);
    REQUIRE(with_default.get() == 2);
    REQUIRE(with_default.get(9) == 2);
    REQUIRE(t1.old_value() == std::nullopt);  // it had only a default: MISSING
    auto t2 = with_default.set(3);
    REQUIRE(t2.old_value() == 2);
    with_default.reset(t2);
    REQUIRE(with_default.get() == 2);
    with_default.reset(t1);
    REQUIRE(with_default.get() == 1);  // removed again: the default shows

    auto t3 = without.set("x");
    REQUIRE(without.get() == "x");
    without.reset(t3);
    REQUIRE_THROWS_AS(without.get(), std::out_of_range);
}

TEST_CASE("a token is checked: its variable, its context, used once", "[context_var]") {
    corio::context_var<int> a("a", 0), b("b", 0);
    auto ta = a.set(1);
    REQUIRE_THROWS_AS(b.reset(ta), std::invalid_argument);
    a.reset(ta);
    REQUIRE_THROWS_AS(a.reset(ta), std::runtime_error);

    auto from_thread = a.set(5);
    auto loop = corio::new_event_loop();
    const bool refused = loop->run_until_complete([](corio::context_var<int>& a, corio::context_var<int>::token& t) -> corio::task<bool> {
        try {
            a.reset(t);  // the token belongs to the thread's context, not this task's
        } catch (const std::invalid_argument&) {
            co_return true;
        }
        co_return false;
    }(a, from_thread));
    REQUIRE(refused);
    a.reset(from_thread);
    REQUIRE(a.get() == 0);
}

TEST_CASE("each thread outside tasks has its own context", "[context_var]") {
    corio::context_var<int> v("v", 0);
    auto t = v.set(1);
    int seen_elsewhere = -1;
    std::thread([&] {
        seen_elsewhere = v.get();
        auto tok = v.set(2);  // its own context: not seen here
        (void)tok;
    }).join();
    REQUIRE(seen_elsewhere == 0);
    REQUIRE(v.get() == 1);
    v.reset(t);
}

TEST_CASE("a task starts with its creator's values and its own set() stays its own", "[context_var]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    static corio::context_var<std::string> request_id("request_id", "none");
    struct outcome {
        std::string child_saw, grandchild_saw, parent_after_child_set, sibling_saw, late_child_saw;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        auto tok = request_id.set("r-1");
        auto child = corio::create_task([](outcome& o) -> corio::task<void> {
            co_await corio::sleep(1ms);  // the parent sets another value meanwhile
            o.child_saw = request_id.get();
            request_id.set("child's own");
            auto grandchild = corio::create_task([]() -> corio::task<std::string> {
                co_await corio::yield();
                co_return request_id.get();
            }());
            o.grandchild_saw = co_await grandchild;
        }(o));
        auto sibling = corio::create_task([]() -> corio::task<std::string> {
            co_await corio::sleep(2ms);  // after the first child's set()
            co_return request_id.get();
        }());
        request_id.set("r-2");  // after both were created: they keep r-1
        auto late = corio::create_task([]() -> corio::task<std::string> { co_return request_id.get(); }());
        co_await child;
        o.parent_after_child_set = request_id.get();
        o.sibling_saw = co_await sibling;
        o.late_child_saw = co_await late;
        request_id.reset(tok);
        co_return o;
    });
    REQUIRE(r.child_saw == "r-1");
    REQUIRE(r.grandchild_saw == "child's own");
    REQUIRE(r.parent_after_child_set == "r-2");
    REQUIRE(r.sibling_saw == "r-1");
    REQUIRE(r.late_child_saw == "r-2");
    REQUIRE(request_id.get() == "none");  // the test thread's context was never touched
}

TEST_CASE("a lazily awaited coroutine shares its awaiter's context", "[context_var]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    static corio::context_var<int> v("v", 0);
    const int seen = corio_test::run_in(mode, []() -> corio::task<int> {
        co_await []() -> corio::task<void> {
            v.set(7);  // same asyncio Task: the awaiter sees it
            co_return;
        }();
        co_return v.get();
    });
    REQUIRE(seen == 7);
}

TEST_CASE("values flow into gather and task_group children", "[context_var]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    static corio::context_var<int> v("v", 0);
    const auto seen = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        v.set(42);
        auto read_after_hop = []() -> corio::task<int> {
            co_await corio::yield();
            co_return v.get();
        };
        auto [a, b] = co_await corio::gather(read_after_hop(), read_after_hop());
        corio::task_group tg;
        auto c = tg.create_task(read_after_hop());
        co_await tg.join();
        co_return std::vector<int>{a, b, c.result()};
    });
    REQUIRE(seen == std::vector<int>{42, 42, 42});
}

TEST_CASE("a task created from a plain thread starts with that thread's values", "[context_var]") {
    static corio::context_var<int> v("v", 0);
    auto t = v.set(11);
    const int seen = corio::run([]() -> corio::task<int> {
        co_await corio::yield();
        co_return v.get();
    }(), corio::run_options{.workers = 2});
    v.reset(t);
    REQUIRE(seen == 11);
}
