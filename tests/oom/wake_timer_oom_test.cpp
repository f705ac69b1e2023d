// Out of memory while a sleep, or a wait with a timeout, adds the timer
// that ends it: the task had armed its wait a moment before, and must not
// be left armed (a later wake-up for that wait would resume it a second
// time). Either the wait is undone and std::bad_alloc thrown at the await,
// or, if a cancel woke the task in between, the await ends in
// cancelled_error as any cancelled wait does.
#include "corio/detail/wake_timer.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <new>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/detail/frame_allocator.hpp"
#include "corio/errors.hpp"
#include "corio/event.hpp"
#include "corio/sleep.hpp"
#include "corio/wait.hpp"
#include "failing_new.hpp"
#include "left_armed.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {

struct outcome {
    bool bad_alloc = false;
    bool cancelled = false;
    bool failure_unused = false;
    corio_oom::after_failure after;
};

/// Allocating the timer's node fails (and, with `cancel_first`, the task is
/// cancelled just before): the class's free frames are held elsewhere, so
/// the node comes from operator new, and only an allocation of its block's
/// size fails.
template <class Await>
corio::task<void> await_with_failing_timer(outcome& o, bool cancel_first, Await await) {
    constexpr std::size_t node_size = sizeof(corio::detail::wake_timer_node);
    corio_oom::frame_class_drained drained(node_size);
    corio::task_ref self = corio::current_task();
    const auto cancel_self = [](void* t) { static_cast<corio::task_ref*>(t)->cancel(); };
    corio_oom::fail_allocation({.only_size = corio::detail::frame_block_size(node_size),
                                .before_throw = cancel_first ? +cancel_self : nullptr,
                                .arg = &self});
    try {
        co_await await();
    } catch (const std::bad_alloc&) {
        o.bad_alloc = true;
    } catch (const corio::cancelled_error&) {
        o.cancelled = true;
    }
    o.failure_unused = corio_oom::cancel_pending_failure();
}

}  // namespace

TEST_CASE("a sleep whose timer cannot be allocated leaves no wait armed", "[sleep][oom]") {
    const bool cancel_first = GENERATE(false, true);
    outcome o;
    corio_test::run_in(corio_test::standalone, [&]() -> corio::task<void> {
        co_await await_with_failing_timer(o, cancel_first, [] { return corio::sleep(10s); });
        co_await corio_oom::check_not_left_armed(o.after);
    });
    REQUIRE_FALSE(o.failure_unused);
    CHECK(o.bad_alloc != cancel_first);
    CHECK(o.cancelled == cancel_first);
    CHECK(o.after.cancel_seen);
    CHECK(o.after.slept_through());
}

TEST_CASE("a wait whose timeout's timer cannot be allocated leaves no wait armed", "[wait][oom]") {
    const bool cancel_first = GENERATE(false, true);
    outcome o;
    corio_test::run_in(corio_test::standalone, [&]() -> corio::task<void> {
        corio::event never;
        auto child = corio::create_task([](corio::event& e) -> corio::task<void> { co_await e.wait(); }(never));
        corio::task_ref kept = child;
        co_await await_with_failing_timer(o, cancel_first, [&] {
            std::vector<corio::task_handle<void>> children;
            children.push_back(std::move(child));
            return corio::wait(std::move(children), {.timeout = 10s});
        });
        co_await corio_oom::check_not_left_armed(o.after);
        never.set();
        co_await kept.wait_done();
    });
    REQUIRE_FALSE(o.failure_unused);
    CHECK(o.bad_alloc != cancel_first);
    CHECK(o.cancelled == cancel_first);
    CHECK(o.after.cancel_seen);
    CHECK(o.after.slept_through());
}
