// future<T>: asyncio's Future, set by some other party (possibly another thread).
#include "corio/future.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/event_loop.hpp"
#include "corio/policy.hpp"
#include "corio/sleep.hpp"
#include "counted.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;
using corio_test::counted;

TEST_CASE("future result before done throws invalid_state_error", "[future]") {
    auto loop = corio::new_event_loop();
    auto f = loop->create_future<int>();
    REQUIRE_FALSE(f.done());
    REQUIRE_FALSE(f.cancelled());
    REQUIRE_THROWS_AS(f.result(), corio::invalid_state_error);
    REQUIRE_THROWS_AS(f.exception(), corio::invalid_state_error);
    f.set_result(3);
    REQUIRE(f.done());
    REQUIRE(f.result() == 3);
    REQUIRE(f.exception() == nullptr);
}

TEST_CASE("future set_result twice throws invalid_state_error", "[future]") {
    auto loop = corio::new_event_loop();
    auto f = loop->create_future<int>();
    f.set_result(1);
    REQUIRE_THROWS_AS(f.set_result(2), corio::invalid_state_error);
    REQUIRE_THROWS_AS(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))),
                      corio::invalid_state_error);
    REQUIRE_FALSE(f.cancel());
    REQUIRE(f.result() == 1);  // the first result stays
}

TEST_CASE("future set_exception stores the exception and result rethrows it", "[future]") {
    auto loop = corio::new_event_loop();
    auto f = loop->create_future<int>();
    REQUIRE_THROWS_AS(f.set_exception(nullptr), std::invalid_argument);
    f.set_exception(std::make_exception_ptr(std::runtime_error("bad")));
    REQUIRE(f.done());
    REQUIRE(f.exception() != nullptr);
    REQUIRE_THROWS_AS(f.result(), std::runtime_error);
    REQUIRE_THROWS_AS(loop->run_until_complete(f), std::runtime_error);
}

TEST_CASE("future cancel makes it cancelled once", "[future][cancel]") {
    auto loop = corio::new_event_loop();
    auto f = loop->create_future<void>();
    REQUIRE(f.cancel());
    REQUIRE_FALSE(f.cancel());
    REQUIRE(f.done());
    REQUIRE(f.cancelled());
    REQUIRE_THROWS_AS(f.result(), corio::cancelled_error);
    REQUIRE_THROWS_AS(f.exception(), corio::cancelled_error);
    REQUIRE_THROWS_AS(f.set_result(), corio::invalid_state_error);
    REQUIRE_THROWS_AS(loop->run_until_complete(f), corio::cancelled_error);
}

TEST_CASE("a task awaiting a future resumes when another task sets it", "[future]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int v = corio_test::run_in(mode, []() -> corio::task<int> {
        auto f = corio::get_running_loop().create_future<int>();
        auto setter = corio::create_task([](corio::future<int> fut) -> corio::task<void> {
            co_await corio::sleep(1ms);
            fut.set_result(11);
        }(f));
        const int r = co_await f;
        co_await setter;
        co_return r;
    });
    REQUIRE(v == 11);
}

TEST_CASE("a future set from another std::thread wakes the awaiting task", "[future][thread]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::thread setter;
    const std::string v = corio_test::run_in(mode, [&]() -> corio::task<std::string> {
        auto f = corio::get_running_loop().create_future<std::string>();
        setter = std::thread([f]() mutable {
            std::this_thread::sleep_for(5ms);
            f.set_result("from thread");
        });
        co_return co_await f;
    });
    setter.join();
    REQUIRE(v == "from thread");
}

TEST_CASE("run_until_complete of a future set from another thread returns its value", "[future][thread]") {
    auto loop = corio::new_event_loop();
    auto f = loop->create_future<int>();
    std::thread t([f]() mutable {
        std::this_thread::sleep_for(5ms);
        f.set_result(21);
    });
    REQUIRE(loop->run_until_complete(f) == 21);
    t.join();
}

TEST_CASE("a future's exception is rethrown in the awaiting task", "[future]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool caught = corio_test::run_in(mode, []() -> corio::task<bool> {
        auto f = corio::get_running_loop().create_future<int>();
        f.set_exception(std::make_exception_ptr(std::out_of_range("oops")));
        try {
            co_await f;
        } catch (const std::out_of_range&) {
            co_return true;
        }
        co_return false;
    });
    REQUIRE(caught);
}

TEST_CASE("cancelling a future wakes its awaiter with cancelled_error", "[future][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool caught = corio_test::run_in(mode, []() -> corio::task<bool> {
        auto f = corio::get_running_loop().create_future<int>();
        auto waiter = corio::create_task([](corio::future<int> fut) -> corio::task<bool> {
            try {
                co_await fut;
            } catch (const corio::cancelled_error&) {
                co_return true;
            }
            co_return false;
        }(f));
        co_await corio::sleep(1ms);
        f.cancel();
        co_return co_await waiter;
    });
    REQUIRE(caught);
}

TEST_CASE("cancelling the task that awaits a future cancels the future", "[future][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool future_cancelled = corio_test::run_in(mode, []() -> corio::task<bool> {
        auto f = corio::get_running_loop().create_future<int>();
        auto waiter = corio::create_task([](corio::future<int> fut) -> corio::task<int> { co_return co_await fut; }(f));
        co_await corio::sleep(1ms);
        waiter.cancel();
        co_await waiter.wait_done();
        co_return waiter.cancelled() && f.cancelled();
    });
    REQUIRE(future_cancelled);
}

TEST_CASE("future done callbacks run on the loop, not inside set_result", "[future][callback]") {
    auto loop = corio::new_event_loop();
    auto f = loop->create_future<int>();
    int seen = 0;
    f.add_done_callback([&](corio::future<int>& done) { seen = done.result(); });
    f.set_result(5);
    REQUIRE(seen == 0);  // scheduled with call_soon, not run inline
    loop->run_until_complete(loop->create_task([]() -> corio::task<void> { co_await corio::yield(); }()));
    REQUIRE(seen == 5);
}

TEST_CASE("a future done callback added after completion is still scheduled", "[future][callback]") {
    auto loop = corio::new_event_loop();
    auto f = loop->create_future<int>();
    f.set_result(2);
    int seen = 0;
    f.add_done_callback([&](corio::future<int>& done) { seen = done.result(); });
    REQUIRE(seen == 0);
    loop->run_until_complete(loop->create_task([]() -> corio::task<void> { co_await corio::yield(); }()));
    REQUIRE(seen == 2);
}

TEST_CASE("remove_done_callback takes the token add_done_callback returned", "[future][callback]") {
    auto loop = corio::new_event_loop();
    auto f = loop->create_future<void>();
    std::vector<int> calls;
    f.add_done_callback([&](corio::future<void>&) { calls.push_back(1); });
    const auto token = f.add_done_callback([&](corio::future<void>&) { calls.push_back(2); });
    f.add_done_callback([&](corio::future<void>&) { calls.push_back(3); });
    REQUIRE(f.remove_done_callback(token) == 1);
    REQUIRE(f.remove_done_callback(token) == 0);
    REQUIRE(f.remove_done_callback(0) == 0);
    f.set_result();
    loop->run_until_complete(loop->create_task([]() -> corio::task<void> { co_await corio::yield(); }()));
    REQUIRE(calls == std::vector<int>{1, 3});  // in registration order
}

TEST_CASE("copies of a future share one state", "[future]") {
    auto loop = corio::new_event_loop();
    auto f = loop->create_future<int>();
    auto g = f;
    g.set_result(9);
    REQUIRE(f.done());
    REQUIRE(f.result() == 9);
}

TEST_CASE("a future<counted> result is destroyed once with the last copy", "[future][counted]") {
    counted::reset();
    {
        auto loop = corio::new_event_loop();
        auto f = loop->create_future<counted>();
        f.set_result(counted(1));
        auto copy = f;
        REQUIRE(copy.result().id == 1);
        REQUIRE(counted::alive() == 1);
    }
    REQUIRE(counted::alive() == 0);
}
