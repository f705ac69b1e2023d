// event_loop: a standalone loop (asyncio.new_event_loop()) and its API.
#include "corio/event_loop.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/policy.hpp"
#include "corio/sleep.hpp"

using namespace std::chrono_literals;

namespace {
corio::task<int> after_sleep(int v) {
    co_await corio::sleep(1ms);
    co_return v;
}
}  // namespace

TEST_CASE("run_until_complete returns the task's value", "[event_loop]") {
    auto loop = corio::new_event_loop();
    REQUIRE_FALSE(loop->is_running());
    REQUIRE_FALSE(loop->is_closed());
    REQUIRE(loop->run_until_complete(after_sleep(3)) == 3);
    REQUIRE(loop->run_until_complete(after_sleep(4)) == 4);  // a loop runs again after returning
    auto h = loop->create_task(after_sleep(5));
    REQUIRE(loop->run_until_complete(h) == 5);
}

TEST_CASE("is_running is true inside the loop", "[event_loop]") {
    auto loop = corio::new_event_loop();
    const bool running = loop->run_until_complete([](corio::event_loop& l) -> corio::task<bool> {
        co_return l.is_running() && &corio::get_running_loop() == &l;
    }(*loop));
    REQUIRE(running);
    REQUIRE_FALSE(loop->is_running());
}

TEST_CASE("run_forever runs until stop is called", "[event_loop]") {
    auto loop = corio::new_event_loop();
    std::vector<int> order;
    loop->call_soon([&] { order.push_back(1); });
    loop->call_later(2ms, [&] {
        order.push_back(2);
        loop->stop();
    });
    loop->run_forever();
    REQUIRE(order == std::vector<int>{1, 2});
    REQUIRE_FALSE(loop->is_running());
    // And again, after it returned.
    loop->call_soon([&] { loop->stop(); });
    loop->run_forever();
}

TEST_CASE("a task created before run_forever runs inside it", "[event_loop]") {
    auto loop = corio::new_event_loop();
    auto h = loop->create_task(after_sleep(8));
    h.add_done_callback([&](corio::task_handle<int>&) { loop->stop(); });
    loop->run_forever();
    REQUIRE(h.done());
    REQUIRE(h.result() == 8);
}

TEST_CASE("a closed loop cannot run again", "[event_loop]") {
    auto loop = corio::new_event_loop();
    loop->run_until_complete(after_sleep(1));
    loop->close();
    REQUIRE(loop->is_closed());
    REQUIRE_THROWS_AS(loop->run_forever(), std::runtime_error);
    REQUIRE_THROWS_AS(loop->run_until_complete(after_sleep(1)), std::runtime_error);
    loop->close();  // closing twice is harmless (asyncio)
}

TEST_CASE("closing a running loop throws", "[event_loop]") {
    auto loop = corio::new_event_loop();
    const bool threw = loop->run_until_complete([](corio::event_loop& l) -> corio::task<bool> {
        try {
            l.close();
        } catch (const std::runtime_error&) {
            co_return true;
        }
        co_return false;
    }(*loop));
    REQUIRE(threw);
    REQUIRE_FALSE(loop->is_closed());
}

TEST_CASE("run_until_complete inside a running loop throws", "[event_loop]") {
    auto loop = corio::new_event_loop();
    auto other = corio::new_event_loop();
    struct result {
        bool same_loop_threw = false;
        bool other_loop_threw = false;
        bool run_forever_threw = false;
    };
    const result r = loop->run_until_complete([](corio::event_loop& l, corio::event_loop& o) -> corio::task<result> {
        result res;
        try {
            l.run_until_complete(after_sleep(1));
        } catch (const std::runtime_error&) {
            res.same_loop_threw = true;
        }
        try {
            o.run_until_complete(after_sleep(1));
        } catch (const std::runtime_error&) {
            res.other_loop_threw = true;
        }
        try {
            l.run_forever();
        } catch (const std::runtime_error&) {
            res.run_forever_threw = true;
        }
        co_return res;
    }(*loop, *other));
    REQUIRE(r.same_loop_threw);
    REQUIRE(r.other_loop_threw);
    REQUIRE(r.run_forever_threw);
}

TEST_CASE("call_soon callbacks run in FIFO order", "[event_loop]") {
    auto loop = corio::new_event_loop();
    std::vector<int> order;
    for (int i = 0; i < 100; ++i) loop->call_soon([&order, i] { order.push_back(i); });
    loop->call_soon([&] { loop->stop(); });
    loop->run_forever();
    REQUIRE(order.size() == 100);
    for (int i = 0; i < 100; ++i) REQUIRE(order[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("call_soon callbacks and task steps share one FIFO", "[event_loop]") {
    // asyncio: a task's step is a call_soon callback; both interleave in order.
    auto loop = corio::new_event_loop();
    std::vector<std::string> order;
    loop->run_until_complete([](corio::event_loop& l, std::vector<std::string>& o) -> corio::task<void> {
        l.call_soon([&o] { o.push_back("cb1"); });
        o.push_back("step1");
        co_await corio::yield();  // behind cb1
        o.push_back("step2");
        l.call_soon([&o] { o.push_back("cb2"); });
        co_await corio::yield();  // behind cb2
        o.push_back("step3");
    }(*loop, order));
    REQUIRE(order == std::vector<std::string>{"step1", "cb1", "step2", "cb2", "step3"});
}

TEST_CASE("call_later and call_at run in deadline order", "[event_loop][timer]") {
    auto loop = corio::new_event_loop();
    std::vector<int> order;
    const auto now = loop->time();
    loop->call_later(30ms, [&] {
        order.push_back(30);
        loop->stop();
    });
    loop->call_at(now + 10ms, [&] { order.push_back(10); });
    loop->call_later(20ms, [&] { order.push_back(20); });
    loop->call_at(now + 5ms, [&] { order.push_back(5); });
    loop->call_soon([&] { order.push_back(0); });
    loop->run_forever();
    REQUIRE(order == std::vector<int>{0, 5, 10, 20, 30});
    REQUIRE(loop->time() >= now + 30ms);
}

TEST_CASE("timers with the same deadline run in the order they were added", "[event_loop][timer]") {
    auto loop = corio::new_event_loop();
    std::vector<int> order;
    const auto when = loop->time() + 2ms;
    for (int i = 0; i < 10; ++i) loop->call_at(when, [&order, i] { order.push_back(i); });
    loop->call_at(when + 1ms, [&] { loop->stop(); });
    loop->run_forever();
    REQUIRE(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("timers added in any order, with ties and cancellations, run by deadline then insertion",
          "[event_loop][timer]") {
    // A rising run of deadlines first (the loop keeps those in a FIFO), then
    // deadlines in random order with many ties (those go to a heap); two in
    // three are cancelled, which makes the loop rebuild both without them.
    auto loop = corio::new_event_loop();
    const auto base = loop->time() + 20ms;
    std::mt19937 rng(7);
    struct added {
        corio::clock::time_point when;
        int index;
    };
    std::vector<added> kept;
    std::vector<corio::timer_handle> cancelled;
    std::vector<int> order;
    for (int i = 0; i < 2000; ++i) {
        const auto when = base + (i < 500 ? i * 10us : static_cast<int>(rng() % 40) * 250us);
        auto h = loop->call_at(when, [&order, i] { order.push_back(i); });
        if (i % 3 == 0) kept.push_back({when, i});
        else cancelled.push_back(std::move(h));
    }
    for (auto& h : cancelled) h.cancel();
    loop->call_at(base + 11ms, [&] { loop->stop(); });
    loop->run_forever();
    std::stable_sort(kept.begin(), kept.end(), [](const added& a, const added& b) { return a.when < b.when; });
    std::vector<int> expected;
    for (const auto& k : kept) expected.push_back(k.index);
    REQUIRE(order == expected);
}

TEST_CASE("equal deadlines keep insertion order across the loop's rebuild of its timers", "[event_loop][timer]") {
    // `first` waits behind 100 later timers (so out of the loop's FIFO of
    // rising deadlines); they are cancelled, the loop's next look at its
    // timers drops them, and `second`, added then with the same deadline,
    // starts that FIFO afresh. Insertion order still puts `first` first.
    auto loop = corio::new_event_loop();
    std::vector<int> order;
    const auto when = loop->time() + 5ms;
    std::vector<corio::timer_handle> far;
    for (int i = 0; i < 100; ++i) far.push_back(loop->call_at(when + 1s, [] {}));
    loop->call_at(when, [&] { order.push_back(1); });
    for (auto& h : far) h.cancel();
    loop->call_soon([&] {  // a round later: the cancelled ones are gone
        loop->call_at(when, [&] { order.push_back(2); });
        loop->call_at(when + 1ms, [&] { loop->stop(); });
    });
    loop->run_forever();
    REQUIRE(order == std::vector<int>{1, 2});
}

TEST_CASE("a cancelled timer handle never runs its callback", "[event_loop][timer]") {
    auto loop = corio::new_event_loop();
    bool soon_ran = false, later_ran = false;
    auto soon = loop->call_soon([&] { soon_ran = true; });
    auto later = loop->call_later(1ms, [&] { later_ran = true; });
    soon.cancel();
    later.cancel();
    REQUIRE(soon.cancelled());
    REQUIRE(later.cancelled());
    loop->call_later(5ms, [&] { loop->stop(); });
    loop->run_forever();
    REQUIRE_FALSE(soon_ran);
    REQUIRE_FALSE(later_ran);
}

TEST_CASE("call_soon_threadsafe from another thread wakes the loop", "[event_loop][thread]") {
    auto loop = corio::new_event_loop();
    std::atomic<int> value{0};
    std::thread other([&] {
        std::this_thread::sleep_for(5ms);
        loop->call_soon_threadsafe([&] {
            value = 1;
            loop->stop();
        });
    });
    loop->run_forever();  // sleeps with nothing to do until the other thread posts
    other.join();
    REQUIRE(value == 1);
}

TEST_CASE("many threads posting with call_soon_threadsafe lose nothing", "[event_loop][thread]") {
    auto loop = corio::new_event_loop();
    constexpr int threads = 4, per_thread = 1000;
    int count = 0;  // only touched on the loop's thread
    std::vector<std::thread> posters;
    for (int t = 0; t < threads; ++t)
        posters.emplace_back([&] {
            for (int i = 0; i < per_thread; ++i)
                loop->call_soon_threadsafe([&] {
                    if (++count == threads * per_thread) loop->stop();
                });
        });
    loop->run_forever();
    for (auto& t : posters) t.join();
    REQUIRE(count == threads * per_thread);
}

TEST_CASE("an exception in a callback goes to the exception handler and the loop keeps running",
          "[event_loop][exception_handler]") {
    auto loop = corio::new_event_loop();
    std::vector<std::string> handled;
    bool after = false;
    loop->set_exception_handler([&](corio::event_loop& l, const corio::exception_context& ctx) {
        REQUIRE(&l == loop.get());
        try {
            std::rethrow_exception(ctx.exception);
        } catch (const std::exception& e) {
            handled.push_back(e.what());
        }
    });
    loop->call_soon([] { throw std::runtime_error("in callback"); });
    loop->call_soon([&] { after = true; });
    loop->call_later(1ms, [&] { loop->stop(); });
    loop->run_forever();
    REQUIRE(handled == std::vector<std::string>{"in callback"});
    REQUIRE(after);
}

TEST_CASE("call_exception_handler calls the handler and an empty handler restores the default",
          "[event_loop][exception_handler]") {
    auto loop = corio::new_event_loop();
    int calls = 0;
    std::string message;
    loop->set_exception_handler([&](corio::event_loop&, const corio::exception_context& ctx) {
        ++calls;
        message = ctx.message;
    });
    loop->call_exception_handler({"hello", nullptr});
    REQUIRE(calls == 1);
    REQUIRE(message == "hello");
    loop->set_exception_handler(nullptr);
    loop->call_exception_handler({"to stderr", nullptr});  // the default handler prints
    REQUIRE(calls == 1);
}

TEST_CASE("an exception thrown by the exception handler does not escape", "[event_loop][exception_handler]") {
    auto loop = corio::new_event_loop();
    loop->set_exception_handler([](corio::event_loop&, const corio::exception_context&) {
        throw std::logic_error("handler failed");
    });
    bool after = false;
    loop->call_soon([] { throw std::runtime_error("in callback"); });
    loop->call_soon([&] {
        after = true;
        loop->stop();
    });
    REQUIRE_NOTHROW(loop->run_forever());
    REQUIRE(after);
}

TEST_CASE("set_debug and get_debug", "[event_loop]") {
    auto loop = corio::new_event_loop();
    REQUIRE_FALSE(loop->get_debug());
    loop->set_debug(true);
    REQUIRE(loop->get_debug());
    loop->set_debug(false);
    REQUIRE_FALSE(loop->get_debug());
}

TEST_CASE("create_future binds a future to the loop", "[event_loop][future]") {
    auto loop = corio::new_event_loop();
    auto f = loop->create_future<int>();
    REQUIRE(f.loop_core() == loop->core());
    loop->call_soon([f]() mutable { f.set_result(12); });
    REQUIRE(loop->run_until_complete(f) == 12);
}

TEST_CASE("a loop destroyed with pending tasks cancels them and runs their cleanup", "[event_loop][cancel]") {
    bool cleaned_up = false;
    bool body_finished = false;
    {
        auto loop = corio::new_event_loop();
        loop->create_task([](bool& cleanup, bool& finished) -> corio::task<void> {
            try {
                co_await corio::sleep(1h);
                finished = true;
            } catch (const corio::cancelled_error&) {
                cleanup = true;
                throw;
            }
        }(cleaned_up, body_finished));
        loop->run_until_complete(after_sleep(0));  // lets it start and reach its sleep
    }
    REQUIRE(cleaned_up);
    REQUIRE_FALSE(body_finished);
}
