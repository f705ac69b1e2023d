// create_task, ensure_future, current_task, all_tasks.
#include "corio/create_task.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "corio/policy.hpp"
#include "corio/sleep.hpp"
#include "counted.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;
using corio_test::counted;

namespace {
corio::task<int> value(int v) {
    co_await corio::yield();
    co_return v;
}
}  // namespace

TEST_CASE("create_task runs the task concurrently without being awaited", "[create_task]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool ran = corio_test::run_in(mode, []() -> corio::task<bool> {
        auto f = corio::get_running_loop().create_future<bool>();
        corio::create_task([](corio::future<bool> done) -> corio::task<void> {
            done.set_result(true);
            co_return;
        }(f));
        co_return co_await f;  // only the spawned task sets it
    });
    REQUIRE(ran);
}

TEST_CASE("create_task outside a running loop throws and destroys the coroutine", "[create_task][counted]") {
    counted::reset();
    auto t = [](counted c) -> corio::task<int> { co_return c.id; }(counted(1));
    REQUIRE_THROWS_AS(corio::create_task(std::move(t)), std::runtime_error);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("create_task of an already awaited task throws invalid_state_error", "[create_task]") {
    auto loop = corio::new_event_loop();
    corio::task<int> empty;
    REQUIRE_THROWS_AS(loop->create_task(std::move(empty)), corio::invalid_state_error);
}

TEST_CASE("current_task is the task running on this thread", "[create_task][current_task]") {
    REQUIRE_FALSE(static_cast<bool>(corio::current_task()));  // none outside tasks
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool ok = corio_test::run_in(mode, []() -> corio::task<bool> {
        corio::task_ref me = corio::current_task();
        // The child returns its header's address, not a task_ref: a task
        // whose result holds a reference to itself is a cycle that never frees.
        auto child = corio::create_task([]() -> corio::task<const void*> {
            co_await corio::yield();
            co_return corio::current_task().header();
        }());
        const void* seen = co_await child;
        co_await corio::sleep(1ms);
        // Still the same task after suspending (and maybe migrating).
        co_return static_cast<bool>(me) && seen == child.header() && seen != me.header() &&
            corio::current_task() == me;
    });
    REQUIRE(ok);
}

namespace {
corio::task<void> sleep_forever() { co_await corio::sleep(1h); }
}  // namespace

TEST_CASE("all_tasks lists the pending tasks of the loop", "[create_task][all_tasks]") {
    REQUIRE_THROWS_AS(corio::all_tasks(), std::runtime_error);  // no running loop
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct result {
        bool has_main = false, has_a = false, has_b = false, lists_finished = true;
        std::size_t after_cancel = 99;
    };
    const result r = corio_test::run_in(mode, []() -> corio::task<result> {
        result res;
        auto finished = corio::create_task(value(0));
        co_await finished;
        auto a = corio::create_task(sleep_forever());
        auto b = corio::create_task(sleep_forever());
        co_await corio::sleep(1ms);
        const auto me = corio::current_task();
        for (const auto& t : corio::all_tasks()) {
            if (t == me) res.has_main = true;
            if (t == a) res.has_a = true;
            if (t == b) res.has_b = true;
        }
        res.lists_finished = false;
        for (const auto& t : corio::all_tasks())
            if (t == finished) res.lists_finished = true;
        a.cancel();
        b.cancel();
        co_await a.wait_done();
        co_await b.wait_done();
        res.after_cancel = corio::all_tasks().size();  // only main is left
        co_return res;
    });
    REQUIRE(r.has_main);
    REQUIRE(r.has_a);
    REQUIRE(r.has_b);
    REQUIRE_FALSE(r.lists_finished);
    REQUIRE(r.after_cancel == 1);
}

TEST_CASE("tasks are named Task-N by default and set_name renames them", "[create_task][name]") {
    auto loop = corio::new_event_loop();
    auto a = loop->create_task(value(1));
    auto b = loop->create_task(value(2));
    auto named = loop->create_task(value(3), corio::task_options{.name = "worker"});
    const std::string na = a.get_name(), nb = b.get_name();
    REQUIRE(na.rfind("Task-", 0) == 0);
    REQUIRE(nb.rfind("Task-", 0) == 0);
    REQUIRE(na != nb);
    REQUIRE(std::stoul(na.substr(5)) > 0);
    REQUIRE(named.get_name() == "worker");
    a.set_name("renamed");
    REQUIRE(a.get_name() == "renamed");
    loop->run_until_complete(a);
    loop->run_until_complete(b);
    loop->run_until_complete(named);
    REQUIRE(a.get_name() == "renamed");  // a done task keeps its name
}

TEST_CASE("the name given to create_task is seen by current_task", "[create_task][name]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const std::string name = corio_test::run_in(mode, []() -> corio::task<std::string> {
        auto h = corio::create_task([]() -> corio::task<std::string> { co_return corio::current_task().get_name(); }(),
                                    {.name = "fetcher"});
        co_return co_await h;
    });
    REQUIRE(name == "fetcher");
}

TEST_CASE("ensure_future schedules a task and passes handles and futures through", "[create_task][ensure_future]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool ok = corio_test::run_in(mode, []() -> corio::task<bool> {
        corio::task_handle<int> h = corio::ensure_future(value(4));
        corio::task_handle<int> same = corio::ensure_future(h);
        auto f = corio::get_running_loop().create_future<int>();
        corio::future<int> g = corio::ensure_future(f);
        g.set_result(5);
        const int x = co_await same;
        const int y = co_await f;
        co_return same == h && x == 4 && y == 5;
    });
    REQUIRE(ok);
}

TEST_CASE("a task started with create_task and never awaited still runs to completion", "[create_task]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<bool> ran{false};
    corio_test::run_in(mode, [&]() -> corio::task<void> {
        corio::create_task([](std::atomic<bool>& r) -> corio::task<void> {
            co_await corio::yield();
            r = true;
        }(ran));
        co_await corio::sleep(5ms);
    });
    REQUIRE(ran);
}

TEST_CASE("a finished spawned task<counted> frees its result once the last handle goes", "[create_task][counted]") {
    counted::reset();
    {
        const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
        const int id = corio_test::run_in(mode, []() -> corio::task<int> {
            auto h = corio::create_task([](counted c) -> corio::task<counted> {
                co_await corio::yield();
                co_return c;
            }(counted(7)));
            auto copy = h;
            const counted a = co_await h;
            const counted b = co_await copy;
            co_return a.id + b.id;
        });
        REQUIRE(id == 14);
    }
    REQUIRE(counted::alive() == 0);
}
