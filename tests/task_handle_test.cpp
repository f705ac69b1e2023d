// task_handle<T>: asyncio's Task object (create_task's result).
#include "corio/task_handle.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/event_loop.hpp"
#include "corio/sleep.hpp"
#include "counted.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;
using corio_test::counted;

namespace {
corio::task<int> value_after_yield(int v) {
    co_await corio::yield();
    co_return v;
}
corio::task<counted> make_counted(int id) {
    co_await corio::yield();
    co_return counted(id);
}
corio::task<int> fails() {
    co_await corio::yield();
    throw std::logic_error("failed");
}
corio::task<std::unique_ptr<int>> make_unique_int(int v) {
    co_await corio::yield();
    co_return std::make_unique<int>(v);
}
}  // namespace

TEST_CASE("a task handle can be awaited several times and copied", "[task_handle]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    auto results = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        auto h = corio::create_task(value_after_yield(5));
        auto copy = h;
        std::vector<int> r;
        r.push_back(co_await h);
        r.push_back(co_await copy);
        r.push_back(co_await h);
        r.push_back(copy == h ? 1 : 0);
        co_return r;
    });
    REQUIRE(results == std::vector<int>{5, 5, 5, 1});
}

TEST_CASE("task handle result, exception, done and cancelled after completion", "[task_handle]") {
    auto loop = corio::new_event_loop();
    auto ok = loop->create_task(value_after_yield(3));
    auto bad = loop->create_task(fails());
    REQUIRE_FALSE(ok.done());
    REQUIRE_THROWS_AS(ok.result(), corio::invalid_state_error);
    REQUIRE_THROWS_AS(ok.exception(), corio::invalid_state_error);
    REQUIRE(loop->run_until_complete(ok) == 3);
    REQUIRE_THROWS_AS(loop->run_until_complete(bad), std::logic_error);
    REQUIRE(ok.done());
    REQUIRE_FALSE(ok.cancelled());
    REQUIRE(ok.result() == 3);
    REQUIRE(ok.exception() == nullptr);
    REQUIRE(bad.done());
    REQUIRE(bad.exception() != nullptr);
    REQUIRE_THROWS_AS(bad.result(), std::logic_error);
}

TEST_CASE("a cancelled task handle reports cancelled and result throws cancelled_error", "[task_handle][cancel]") {
    auto loop = corio::new_event_loop();
    auto h = loop->create_task(value_after_yield(1));
    REQUIRE(h.cancel());
    REQUIRE_THROWS_AS(loop->run_until_complete(h), corio::cancelled_error);
    REQUIRE(h.done());
    REQUIRE(h.cancelled());
    REQUIRE_THROWS_AS(h.result(), corio::cancelled_error);
    REQUIRE_THROWS_AS(h.exception(), corio::cancelled_error);
    REQUIRE_FALSE(h.cancel());  // already done
}

TEST_CASE("a task_handle<counted> result read twice is destroyed once", "[task_handle][counted]") {
    counted::reset();
    {
        auto loop = corio::new_event_loop();
        auto h = loop->create_task(make_counted(8));
        loop->run_until_complete(loop->create_task([](corio::task_handle<counted> t) -> corio::task<void> {
            counted a = co_await t;  // a copy: the handle keeps its result
            counted b = co_await t;
            if (a.id != 8 || b.id != 8) throw std::logic_error("wrong id");
        }(h)));
        REQUIRE(h.result().id == 8);
        REQUIRE(h.result().id == 8);
        REQUIRE(counted::alive() == 1);  // only the one in the task's result slot
    }
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("a task handle of a move-only result moves it out when awaited", "[task_handle]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int v = corio_test::run_in(mode, []() -> corio::task<int> {
        auto h = corio::create_task(make_unique_int(4));
        std::unique_ptr<int> p = co_await std::move(h);
        co_return *p;
    });
    REQUIRE(v == 4);
}

namespace {
/// Its parameter lives in its frame: counted::alive() shows whether the
/// frame still exists.
corio::task<int> holding(counted, int v) {
    co_await corio::yield();
    co_return v;
}
corio::task<int> failing_holding(counted, int v) {
    co_await corio::yield();
    throw std::runtime_error(std::to_string(v));
}
}  // namespace

TEST_CASE("awaiting a handle as an rvalue frees the task at once if the handle held its last reference",
          "[task_handle][counted]") {
    counted::reset();
    {
        auto loop = corio::new_event_loop();
        loop->run_until_complete([]() -> corio::task<void> {
            auto h = corio::create_task(holding(counted(1), 5));
            const int v = co_await std::move(h);
            CHECK(v == 5);
            CHECK(!h);  // its reference went with the task
            CHECK(counted::alive() == 0);
            // Awaiting it again is a clear error, not a read of freed memory.
            bool threw = false;
            try {
                (void)co_await std::move(h);
            } catch (const corio::invalid_state_error&) {
                threw = true;
            }
            CHECK(threw);

            // Another handle still refers to it: this one keeps its reference.
            auto shared = corio::create_task(holding(counted(2), 6));
            auto other = shared;
            const int w = co_await std::move(shared);
            CHECK(w == 6);
            CHECK(shared);
            CHECK(counted::alive() == 1);
            CHECK(other.result() == 6);
        }());
    }
    CHECK(counted::alive() == 0);
}

TEST_CASE("awaiting a failed task's handle as an rvalue frees the task before the catch if the handle held its last reference",
          "[task_handle][counted]") {
    counted::reset();
    corio_test::run_in(corio_test::standalone, []() -> corio::task<void> {
        auto h = corio::create_task(failing_holding(counted(1), 5));
        try {
            (void)co_await std::move(h);
            FAIL("no exception");
        } catch (const std::runtime_error& e) {
            CHECK(std::string(e.what()) == "5");
            CHECK(!h);  // its reference went with the task
            CHECK(counted::alive() == 0);
        }
        // Another handle still refers to it: it still has the exception.
        auto shared = corio::create_task(failing_holding(counted(2), 6));
        auto other = shared;
        try {
            (void)co_await std::move(shared);
            FAIL("no exception");
        } catch (const std::runtime_error&) {
            CHECK(shared);
            CHECK(counted::alive() == 1);
        }
        CHECK_THROWS_WITH(other.result(), "6");
    });
    CHECK(counted::alive() == 0);
}

TEST_CASE("rvalue awaits of many handles free every task exactly once on any worker", "[task_handle][counted]") {
    counted::reset();
    const int sum = corio::run(
        []() -> corio::task<int> {
            std::vector<corio::task_handle<int>> handles;
            for (int i = 0; i < 1000; ++i) handles.push_back(corio::create_task(holding(counted(i), i)));
            int total = 0;
            for (auto& h : handles) total += co_await std::move(h);
            co_return total;
        }(),
        corio::run_options{.workers = 4});
    CHECK(sum == 999 * 1000 / 2);
    CHECK(counted::alive() == 0);
}

TEST_CASE("a task handle's done callback runs with the handle, and can be removed", "[task_handle][callback]") {
    auto loop = corio::new_event_loop();
    auto h = loop->create_task(value_after_yield(6));
    int seen = 0;
    int removed_calls = 0;
    h.add_done_callback([&](corio::task_handle<int>& t) { seen = t.result(); });
    const auto token = h.add_done_callback([&](corio::task_handle<int>&) { ++removed_calls; });
    REQUIRE(h.remove_done_callback(token) == 1);
    REQUIRE(h.remove_done_callback(token) == 0);
    loop->run_until_complete(h);
    loop->run_until_complete(loop->create_task(value_after_yield(0)));  // let callbacks run
    REQUIRE(seen == 6);
    REQUIRE(removed_calls == 0);
}

TEST_CASE("wait_done resumes when the task ends without taking its result", "[task_handle]") {
    auto loop = corio::new_event_loop();
    const bool ok = loop->run_until_complete([]() -> corio::task<bool> {
        auto h = corio::create_task(fails());
        co_await h.wait_done();  // does not throw the task's exception
        co_return h.done() && h.exception() != nullptr;
    }());
    REQUIRE(ok);
}

TEST_CASE("task_ref is a type-erased handle", "[task_handle]") {
    auto loop = corio::new_event_loop();
    auto h = loop->create_task(value_after_yield(2));
    corio::task_ref r = h;
    REQUIRE(r == h);
    REQUIRE(static_cast<bool>(r));
    REQUIRE_FALSE(static_cast<bool>(corio::task_ref{}));
    loop->run_until_complete(h);
    REQUIRE(r.done());
    REQUIRE(r.exception() == nullptr);
}
