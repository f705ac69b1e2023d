// timer_handle: what call_soon / call_later / call_at return.
#include "corio/timer_handle.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "corio/event_loop.hpp"

using namespace std::chrono_literals;

TEST_CASE("a default timer handle is inert", "[timer_handle]") {
    corio::timer_handle h;
    REQUIRE_FALSE(h.cancelled());
    h.cancel();  // no-op
    REQUIRE(h.when() == corio::clock::time_point{});
}

TEST_CASE("timer handle when() is the timer's deadline", "[timer_handle]") {
    auto loop = corio::new_event_loop();
    const auto at = loop->time() + 50ms;
    auto h = loop->call_at(at, [] {});
    REQUIRE(h.when() == at);
    auto later = loop->call_later(1s, [] {});
    REQUIRE(later.when() >= at);
    h.cancel();
    later.cancel();
}

TEST_CASE("copies of a timer handle cancel the same callback", "[timer_handle]") {
    auto loop = corio::new_event_loop();
    bool ran = false;
    auto h = loop->call_later(1ms, [&] { ran = true; });
    auto copy = h;
    corio::timer_handle moved = std::move(copy);
    moved.cancel();
    REQUIRE(h.cancelled());
    loop->call_later(5ms, [&] { loop->stop(); });
    loop->run_forever();
    REQUIRE_FALSE(ran);
}

TEST_CASE("cancelling a timer after it ran is harmless", "[timer_handle]") {
    auto loop = corio::new_event_loop();
    int runs = 0;
    auto h = loop->call_soon([&] { ++runs; });
    loop->call_soon([&] { loop->stop(); });
    loop->run_forever();
    h.cancel();
    REQUIRE(runs == 1);
}

TEST_CASE("a timer handle outlives its loop", "[timer_handle]") {
    corio::timer_handle h;
    {
        auto loop = corio::new_event_loop();
        h = loop->call_later(1h, [] {});
    }
    h.cancel();  // the handle holds its own reference to the node (ASan: no use after free)
    REQUIRE(h.cancelled());
}

TEST_CASE("a timer can be cancelled from another thread", "[timer_handle][thread]") {
    auto loop = corio::new_event_loop();
    std::atomic<bool> ran{false};
    auto h = loop->call_later(30ms, [&] { ran = true; });
    std::thread([h]() mutable { h.cancel(); }).join();
    loop->call_later(60ms, [&] { loop->stop(); });
    loop->run_forever();
    REQUIRE_FALSE(ran);
}
