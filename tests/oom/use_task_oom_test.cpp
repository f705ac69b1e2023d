// Out of memory around an Asio operation awaited with use_task whose IO
// object belongs to an io_context another thread runs, so that starting
// it and cancelling it are posts to that thread. A start that cannot be
// posted ends the await with std::bad_alloc (the wait armed for it is
// ended, as a failed start's), and a cancellation is posted in memory set
// aside, so it reaches the operation however little memory is left:
// otherwise the operation would run on into the frame the exception frees.
#include "corio/use_task.hpp"

#include <catch2/catch.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <new>
#include <thread>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/errors.hpp"
#include "corio/sleep.hpp"
#include "failing_new.hpp"
#include "left_armed.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {

/// An io_context run by a thread of its own, as another loop's is.
struct io_thread {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
    std::thread thread{[this] { io.run(); }};

    ~io_thread() {
        work.reset();
        thread.join();
    }
};

struct attempt {
    bool completed = false;
    bool bad_alloc = false;
    bool cancelled = false;
    corio_oom::after_failure after;
};

}  // namespace

TEST_CASE("an Asio operation that cannot be started for want of memory throws bad_alloc and leaves no wait armed",
          "[use_task][oom]") {
    // Each allocation the await makes on this thread fails in turn (the
    // first, then the second, ...) until an await makes none that fails.
    io_thread other;
    std::vector<attempt> attempts;
    corio_test::run_in(corio_test::standalone, [&]() -> corio::task<void> {
        for (std::size_t skip = 0; skip < 100; ++skip) {
            attempt a;
            asio::steady_timer timer(other.io, 1ms);
            corio_oom::fail_allocation({.skip = skip});
            try {
                co_await timer.async_wait(corio::use_task);
                a.completed = true;
            } catch (const std::bad_alloc&) {
                a.bad_alloc = true;
            }
            const bool failed = !corio_oom::cancel_pending_failure();
            co_await corio_oom::check_not_left_armed(a.after);
            attempts.push_back(a);
            if (!failed) break;
        }
    });
    REQUIRE(attempts.size() >= 2);  // the start's post, at least, allocates
    CHECK(attempts.back().completed);
    for (const attempt& a : attempts) {
        CHECK(a.completed != a.bad_alloc);
        CHECK(a.after.cancel_seen);
        CHECK(a.after.slept_through());
    }
}

TEST_CASE("a cancel reaches an Asio operation when memory has run out", "[use_task][oom][cancel]") {
    io_thread other;
    attempt a;
    bool failure_unused = false;
    corio_test::run_in(corio_test::standalone, [&]() -> corio::task<void> {
        asio::steady_timer timer(other.io, 1h);
        auto waiter = corio::create_task(
            [](asio::steady_timer& t) -> corio::task<void> { co_await t.async_wait(corio::use_task); }(timer));
        co_await corio::sleep(10ms);  // the waiter has started the operation
        corio_oom::fail_allocation({});
        waiter.cancel();
        try {
            co_await std::move(waiter);
            a.completed = true;
        } catch (const corio::cancelled_error&) {
            a.cancelled = true;
        } catch (const std::bad_alloc&) {
            a.bad_alloc = true;
        }
        failure_unused = corio_oom::cancel_pending_failure();
    });
    CHECK(a.cancelled);
    CHECK(failure_unused);  // the cancellation allocated nothing here
}
