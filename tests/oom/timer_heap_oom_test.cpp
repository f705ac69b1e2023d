// Out of memory when a timer is handed to its loop (the loop's timer heap
// cannot grow): the timer never fires, and nothing it holds may be kept.
// On a fresh loop, a timer due before one already there is the first to go
// into the heap's vector (timers due in order queue up in a deque, which
// has room from the start), which then allocates its first entry.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <new>
#include <thread>

#include "corio/corio.hpp"
#include "failing_new.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {

/// The size of the timer heap's first allocation: one entry (deadline,
/// sequence number, node).
constexpr std::size_t first_heap_entry = sizeof(corio::clock::time_point) + sizeof(std::uint64_t) + sizeof(void*);

/// A timer due later than the ones the tests add; cancelled at the end.
corio::timer_handle later_timer() {
    return corio::get_running_loop().call_later(1h, [] {});
}

}  // namespace

TEST_CASE("call_later whose timer cannot be added throws bad_alloc and keeps nothing of the callback",
          "[event_loop][oom]") {
    auto held = std::make_shared<int>(0);
    bool bad_alloc = false;
    bool failure_unused = false;
    corio_test::run_in(corio_test::standalone, [&]() -> corio::task<void> {
        corio::timer_handle later = later_timer();
        corio_oom::fail_allocation({.only_size = first_heap_entry});
        try {
            corio::get_running_loop().call_later(1s, [held] {});
        } catch (const std::bad_alloc&) {
            bad_alloc = true;
        }
        failure_unused = corio_oom::cancel_pending_failure();
        later.cancel();
        co_return;
    });
    REQUIRE_FALSE(failure_unused);
    CHECK(bad_alloc);
    CHECK(held.use_count() == 1);  // the callback, and the node holding it, are gone
}

TEST_CASE("a timeout scope whose timer cannot be added throws bad_alloc and is left", "[timeout][oom]") {
    // The scope's state holds its timer and the timer holds the state: a
    // failed start that kept the one would keep both (LSan, in the ASan
    // build, sees that leak).
    struct outcome {
        bool bad_alloc = false;
        bool work_ran = false;
        bool reschedule_refused = false;
        bool failure_unused = false;
    } o;
    corio_test::run_in(corio_test::standalone, [&]() -> corio::task<void> {
        corio::timer_handle later = later_timer();
        auto scope = corio::timeout(1s);
        corio_oom::fail_allocation({.only_size = first_heap_entry});
        try {
            co_await scope.run([](bool& ran) -> corio::task<void> {
                ran = true;
                co_return;
            }(o.work_ran));
        } catch (const std::bad_alloc&) {
            o.bad_alloc = true;
        }
        try {
            scope.reschedule(corio::clock::now() + 1s);
        } catch (const std::runtime_error&) {
            o.reschedule_refused = true;  // the scope was left
        }
        o.failure_unused = corio_oom::cancel_pending_failure();
        later.cancel();
    });
    REQUIRE_FALSE(o.failure_unused);
    CHECK(o.bad_alloc);
    CHECK_FALSE(o.work_ran);
    CHECK(o.reschedule_refused);
}

TEST_CASE("a timer added from another thread that its loop's heap cannot take yet fires once it can",
          "[event_loop][oom]") {
    // Another thread's timer waits in the loop's incoming list until the
    // loop merges it into its heap; the first merge fails here, and the
    // timer must stay in the list for the next one (it used to be lost,
    // bad_alloc leaving the loop).
    bool fired = false;
    bool failure_unused = false;
    corio_test::run_in(corio_test::standalone, [&]() -> corio::task<void> {
        corio::event_loop& loop = corio::get_running_loop();
        corio::timer_handle later = later_timer();
        // The loop merges when this task next yields; then its thread's
        // next allocation of a heap entry fails.
        std::thread([&] { loop.call_later(10ms, [&fired] { fired = true; }); }).join();
        corio_oom::fail_allocation({.only_size = first_heap_entry});
        // Yields, not a sleep: a sleep's timer would go to the heap first.
        const auto give_up = corio::clock::now() + 10s;
        while (!fired && corio::clock::now() < give_up) co_await corio::yield();
        failure_unused = corio_oom::cancel_pending_failure();
        later.cancel();
    });
    REQUIRE_FALSE(failure_unused);
    CHECK(fired);
}
