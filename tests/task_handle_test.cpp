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
