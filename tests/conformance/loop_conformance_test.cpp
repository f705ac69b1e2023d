// asyncio's loop semantics: done callbacks go through call_soon, exception
// handler, current_task, closed and nested loops, stop().
#include "corio/corio.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "run_modes.hpp"

using namespace std::chrono_literals;

TEST_CASE("a done callback is scheduled with call_soon, never run inside set_result", "[callback][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct result {
        bool ran_inline = true, ran_later = false;
    };
    const result r = corio_test::run_in(mode, []() -> corio::task<result> {
        auto fut = corio::get_running_loop().create_future<int>();
        auto ran = std::make_shared<std::atomic<bool>>(false);
        fut.add_done_callback([ran](corio::future<int>&) { *ran = true; });
        fut.set_result(1);
        result res;
        res.ran_inline = *ran;
        for (int i = 0; i < 100 && !*ran; ++i) co_await corio::sleep(100us);
        res.ran_later = *ran;
        co_return res;
    });
    REQUIRE_FALSE(r.ran_inline);
    REQUIRE(r.ran_later);
}

TEST_CASE("a task's done callback runs after the task, on its loop", "[callback][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool ok = corio_test::run_in(mode, []() -> corio::task<bool> {
        corio::event_loop* home = &corio::get_running_loop();
        auto h = corio::create_task([]() -> corio::task<int> { co_return 3; }(), {.name = "", .pinned = true});
        auto seen = corio::get_running_loop().create_future<bool>();
        h.add_done_callback([seen, home](corio::task_handle<int>& t) mutable {
            seen.set_result(t.done() && t.result() == 3 && &corio::get_running_loop() == home);
        });
        co_return co_await seen;
    });
    REQUIRE(ok);
}

TEST_CASE("done callbacks run in the order they were added", "[callback][conformance]") {
    auto loop = corio::new_event_loop();
    std::vector<int> order;
    auto h = loop->create_task([]() -> corio::task<void> { co_await corio::yield(); }());
    for (int i = 0; i < 5; ++i) h.add_done_callback([&order, i](corio::task_handle<void>&) { order.push_back(i); });
    loop->run_until_complete(h);
    loop->run_until_complete([]() -> corio::task<void> { co_await corio::yield(); }());
    REQUIRE(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("an exception in a done callback goes to the exception handler, not to the caller",
          "[callback][exception_handler][conformance]") {
    auto loop = corio::new_event_loop();
    std::vector<std::string> handled;
    loop->set_exception_handler([&](corio::event_loop&, const corio::exception_context& ctx) {
        try {
            std::rethrow_exception(ctx.exception);
        } catch (const std::exception& e) {
            handled.push_back(e.what());
        }
    });
    auto fut = loop->create_future<int>();
    fut.add_done_callback([](corio::future<int>&) { throw std::runtime_error("callback failed"); });
    REQUIRE_NOTHROW(fut.set_result(1));
    REQUIRE(loop->run_until_complete([]() -> corio::task<int> {
        co_await corio::sleep(1ms);
        co_return 2;
    }()) == 2);
    REQUIRE(handled == std::vector<std::string>{"callback failed"});
}

TEST_CASE("an exception in a callback on a runtime worker goes to that loop's handler",
          "[callback][exception_handler][conformance][runtime]") {
    corio::runtime rt({.workers = 2});
    std::atomic<int> handled{0};
    for (std::size_t i = 0; i < rt.workers(); ++i)
        rt.loop(i).set_exception_handler([&](corio::event_loop&, const corio::exception_context&) { ++handled; });
    const int v = rt.run_until_complete([]() -> corio::task<int> {
        corio::get_running_loop().call_soon([] { throw std::runtime_error("boom"); });
        co_await corio::sleep(2ms);
        co_return 1;  // the loop kept running
    }());
    REQUIRE(v == 1);
    REQUIRE(handled == 1);
}

TEST_CASE("current_task inside tasks is that task, and empty in a callback", "[current_task][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct result {
        bool matches = false, empty_in_callback = false;
    };
    const result r = corio_test::run_in(mode, []() -> corio::task<result> {
        result res;
        std::vector<corio::task_handle<bool>> hs;
        for (int i = 0; i < 10; ++i) {
            hs.push_back(corio::create_task([](int n) -> corio::task<bool> {
                const auto me = corio::current_task();
                co_await corio::sleep(n * 100us);
                co_return corio::current_task() == me && me.get_name() == std::to_string(n);
            }(i), {.name = std::to_string(i)}));
        }
        res.matches = true;
        for (auto& h : hs) res.matches = (co_await h) && res.matches;
        auto in_callback = corio::get_running_loop().create_future<bool>();
        corio::get_running_loop().call_soon([in_callback]() mutable {
            in_callback.set_result(!static_cast<bool>(corio::current_task()));
        });
        res.empty_in_callback = co_await in_callback;
        co_return res;
    });
    REQUIRE(r.matches);
    REQUIRE(r.empty_in_callback);
}

TEST_CASE("a closed loop refuses to run", "[event_loop][conformance]") {
    auto loop = corio::new_event_loop();
    loop->close();
    REQUIRE_THROWS_AS(loop->run_forever(), std::runtime_error);
    REQUIRE_THROWS_AS(loop->run_until_complete([]() -> corio::task<int> { co_return 1; }()), std::runtime_error);
    auto f = loop->create_future<int>();
    REQUIRE_THROWS_AS(loop->run_until_complete(f), std::runtime_error);
}

TEST_CASE("run_until_complete on a running loop throws and does not schedule the coroutine",
          "[event_loop][conformance]") {
    // asyncio checks _check_running() before ensure_future(): the coroutine
    // is never scheduled.
    auto loop = corio::new_event_loop();
    bool ran = false;
    const bool threw = loop->run_until_complete([](corio::event_loop& l, bool& r) -> corio::task<bool> {
        bool t = false;
        try {
            l.run_until_complete([](bool& rr) -> corio::task<void> {
                rr = true;
                co_return;
            }(r));
        } catch (const std::runtime_error&) {
            t = true;
        }
        co_await corio::sleep(2ms);  // give a wrongly scheduled task time to run
        co_return t;
    }(*loop, ran));
    REQUIRE(threw);
    REQUIRE_FALSE(ran);
}

TEST_CASE("stop() lets the current batch of ready callbacks finish", "[event_loop][conformance]") {
    // asyncio's run_forever runs every callback that was ready when the
    // iteration began, then checks _stopping: b runs in the same run.
    auto loop = corio::new_event_loop();
    std::vector<char> order;
    loop->call_soon([&] { order.push_back('a'); });
    loop->call_soon([&] { loop->stop(); });
    loop->call_soon([&] { order.push_back('b'); });
    loop->run_forever();
    REQUIRE(order == std::vector<char>{'a', 'b'});
}

TEST_CASE("stop() before run_forever runs the ready callbacks once, then returns", "[event_loop][conformance]") {
    // asyncio: "If stop() is called before run_forever() is called, the loop
    // will poll the I/O selector once ... run all callbacks scheduled ... and then exit."
    auto loop = corio::new_event_loop();
    bool ran = false;
    loop->call_soon([&] { ran = true; });
    loop->stop();
    loop->run_forever();
    REQUIRE(ran);
}

TEST_CASE("the running loop is the thread's loop inside tasks and callbacks", "[policy][conformance]") {
    auto loop = corio::new_event_loop();
    bool in_callback = false;
    const bool in_task = loop->run_until_complete([](corio::event_loop& l, bool& cb) -> corio::task<bool> {
        auto f = l.create_future<void>();
        l.call_soon([&l, &cb, f]() mutable {
            cb = &corio::get_running_loop() == &l;
            f.set_result();
        });
        co_await f;
        co_return &corio::get_running_loop() == &l;
    }(*loop, in_callback));
    REQUIRE(in_task);
    REQUIRE(in_callback);
}

TEST_CASE("an awaiting task resumes on its loop when a future is set from a foreign thread",
          "[future][conformance][thread]") {
    auto loop = corio::new_event_loop();
    const bool same_thread = loop->run_until_complete([]() -> corio::task<bool> {
        auto f = corio::get_running_loop().create_future<int>();
        const auto me = std::this_thread::get_id();
        std::thread t([f]() mutable { f.set_result(1); });
        co_await f;
        t.join();
        co_return std::this_thread::get_id() == me;
    }());
    REQUIRE(same_thread);  // a standalone loop: everything on the thread that runs it
}
