#include "corio/use_task.hpp"

#include <catch2/catch.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "corio/corio.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

TEST_CASE("use_task awaits an Asio timer on the running loop", "[use_task]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool fired = corio_test::run_in(mode, []() -> corio::task<bool> {
        asio::steady_timer timer(corio::get_running_loop().io_context(), 5ms);
        const auto start = std::chrono::steady_clock::now();
        co_await timer.async_wait(corio::use_task);
        co_return std::chrono::steady_clock::now() - start >= 5ms;  // the expiry, not a time bound
    });
    REQUIRE(fired);
}

TEST_CASE("use_task throws an operation's error_code as std::system_error", "[use_task]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const std::error_code ec = corio_test::run_in(mode, []() -> corio::task<std::error_code> {
        asio::io_context& io = corio::get_running_loop().io_context();
        // A port nobody listens on: bind one, close it, connect to it.
        asio::ip::tcp::acceptor probe(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        const auto closed_port = probe.local_endpoint();
        probe.close();
        asio::ip::tcp::socket s(io);
        try {
            co_await s.async_connect(closed_port, corio::use_task);
        } catch (const std::system_error& e) {
            co_return e.code();
        }
        co_return std::error_code();
    });
    REQUIRE(ec == asio::error::connection_refused);
}

TEST_CASE("use_task returns the values of a multi-value completion", "[use_task]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const std::size_t found = corio_test::run_in(mode, []() -> corio::task<std::size_t> {
        asio::ip::tcp::resolver r(corio::get_running_loop().io_context());
        auto results = co_await r.async_resolve("127.0.0.1", "80", corio::use_task);
        co_return results.size();
    });
    REQUIRE(found >= 1);
}

TEST_CASE("cancelling a task cancels its pending Asio operation", "[use_task][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto outcome = corio_test::run_in(mode, []() -> corio::task<int> {
        std::atomic<int> after_wait{0};
        auto waiter = corio::create_task([](std::atomic<int>& after) -> corio::task<void> {
            asio::steady_timer timer(corio::get_running_loop().io_context(), 1h);
            co_await timer.async_wait(corio::use_task);
            after = 1;  // never: the wait is cancelled
        }(after_wait));
        co_await corio::sleep(2ms);
        waiter.cancel();
        int result = 0;
        try {
            co_await waiter;
        } catch (const corio::cancelled_error&) {
            result = after_wait.load() == 0 ? 1 : 2;
        }
        co_return result;
    });
    REQUIRE(outcome == 1);  // cancelled at once, not after an hour
}

TEST_CASE("a cancellation pending before the operation starts never starts it", "[use_task][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool cancelled = corio_test::run_in(mode, []() -> corio::task<bool> {
        auto t = corio::create_task([]() -> corio::task<void> {
            co_await corio::yield();  // cancel() lands while it is queued here...
            asio::steady_timer timer(corio::get_running_loop().io_context(), 1h);
            co_await timer.async_wait(corio::use_task);  // ...so this await must throw, not wait
        }());
        co_await corio::yield();
        t.cancel();
        try {
            co_await t;
        } catch (const corio::cancelled_error&) {
            co_return true;
        }
        co_return false;
    });
    REQUIRE(cancelled);
}

TEST_CASE("an operation on another loop's IO object is started and completed on that loop", "[use_task]") {
    corio::runtime rt({.workers = 2});
    asio::io_context& io0 = rt.loop(0).io_context();
    // A task pinned to loop 1 waits on a timer of loop 0: the initiation is
    // posted to loop 0, the completion wakes the task back on loop 1.
    auto h = rt.loop(1).create_task(
        [](asio::io_context& io0) -> corio::task<int> {
            int done = 0;
            for (int i = 0; i < 200; ++i) {
                asio::steady_timer timer(io0, std::chrono::microseconds(50));
                co_await timer.async_wait(corio::use_task);
                ++done;
            }
            co_return done;
        }(io0),
        corio::task_options{.name = "on loop 1", .pinned = true});
    REQUIRE(rt.run_until_complete(h) == 200);
}

namespace {

/// An Asio operation whose completion throws, inside the io_context's
/// run, before it calls its handler: the handler is destroyed uncalled as
/// the exception unwinds (what out of memory in an accept's completion
/// does), and the exception comes out of run.
template <class Token>
auto async_throwing_completion(asio::io_context& io, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [&io](auto handler) {
            asio::post(io, [h = std::move(handler)]() mutable {
                (void)h;
                throw std::runtime_error("in a completion");
            });
        },
        token);
}

}  // namespace

TEST_CASE("an exception out of an operation's completion ends its await, and the loop goes on", "[use_task]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        std::string thrown;
        bool reported = false;
        bool timer_after = false;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        auto reported = std::make_shared<std::atomic<bool>>(false);
        corio::event_loop& loop = corio::get_running_loop();
        loop.set_exception_handler([reported](corio::event_loop&, const corio::exception_context&) { reported->store(true); });
        try {
            co_await async_throwing_completion(loop.io_context(), corio::use_task);
        } catch (const std::runtime_error& e) {
            o.thrown = e.what();
        }
        // The loop whose run the exception came out of still runs its IO;
        // once this timer's completion has run there, so has the catch
        // that would have reported the exception.
        asio::steady_timer timer(loop.io_context(), 1ms);
        co_await timer.async_wait(corio::use_task);
        o.timer_after = true;
        o.reported = reported->load();
        co_return o;
    });
    CHECK(r.thrown == "in a completion");
    CHECK_FALSE(r.reported);
    CHECK(r.timer_after);
}

TEST_CASE("an exception out of a completion that ends no operation goes to the loop's exception handler",
          "[use_task]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::string> {
        corio::event_loop& loop = corio::get_running_loop();
        corio::future<std::string> reported = loop.create_future<std::string>();
        loop.set_exception_handler([reported](corio::event_loop&, const corio::exception_context& ctx) mutable {
            try {
                std::rethrow_exception(ctx.exception);
            } catch (const std::runtime_error& e) {
                reported.set_result(e.what());
            }
        });
        asio::post(loop.io_context(), [] { throw std::runtime_error("in a plain handler"); });
        co_return co_await corio::wait_for(reported, 5s);
    });
    CHECK(r == "in a plain handler");
}

namespace {

/// Awaits a post through `io`, a user's own io_context: true when it ends
/// in operation_aborted, false when it completes.
corio::task<bool> aborted_post(asio::io_context& io) {
    try {
        co_await asio::post(io, corio::use_task);
    } catch (const std::system_error& e) {
        co_return e.code() == asio::error::operation_aborted;
    }
    co_return false;
}

}  // namespace

TEST_CASE("an operation on a user's io_context destroyed before it starts ends in operation_aborted", "[use_task]") {
    auto loop = corio::new_event_loop();
    const bool aborted = loop->run_until_complete([]() -> corio::task<bool> {
        auto io = std::make_unique<asio::io_context>();
        auto waiter = corio::create_task(aborted_post(*io));
        co_await corio::yield();  // the waiter posts its start to `io` and waits
        io.reset();               // nobody ran `io`: the start is destroyed uncalled
        co_return co_await waiter;
    }());
    REQUIRE(aborted);
}

TEST_CASE("an operation whose completion a user's io_context drops at its end ends in operation_aborted",
          "[use_task]") {
    corio::runtime rt({.workers = 2});
    auto io = std::make_unique<asio::io_context>();
    corio::task_options on_loop_1;
    on_loop_1.pinned = true;
    auto waiter = rt.loop(1).create_task(aborted_post(*io), on_loop_1);
    {
        auto work = asio::make_work_guard(*io);
        // Blocks until the waiter's start arrives, and runs it: the post's
        // completion is then queued in `io`...
        REQUIRE(io->run_one() == 1);
    }
    // An io_context may not go while a thread is still inside a post to
    // it: once a task queued behind the waiter on its loop has run, that
    // loop's thread has left the post.
    rt.run_until_complete(rt.loop(1).create_task([]() -> corio::task<void> { co_return; }(), on_loop_1));
    io.reset();  // ...and destroyed uncalled, on this thread, outside the runtime
    REQUIRE(rt.run_until_complete(waiter));
}

TEST_CASE("an operation whose completion throws inside a user's io_context run ends in operation_aborted",
          "[use_task]") {
    corio::runtime rt({.workers = 2});
    asio::io_context io;
    auto waiter = rt.create_task([](asio::io_context& io) -> corio::task<bool> {
        try {
            co_await async_throwing_completion(io, corio::use_task);
        } catch (const std::system_error& e) {
            co_return e.code() == asio::error::operation_aborted;
        }
        co_return false;
    }(io));
    bool run_threw = false;
    {
        auto work = asio::make_work_guard(io);
        try {
            // Blocks until the waiter has queued the throwing completion
            // and runs it: the exception drops the handler and comes out
            // here, on this thread.
            io.run_one();
        } catch (const std::runtime_error&) {
            run_threw = true;
        }
    }
    REQUIRE(run_threw);
    REQUIRE(rt.run_until_complete(waiter));
}

TEST_CASE("a task cancelled while its operation's io_context goes away ends cancelled", "[use_task][cancel]") {
    auto loop = corio::new_event_loop();
    const bool cancelled = loop->run_until_complete([]() -> corio::task<bool> {
        auto io = std::make_unique<asio::io_context>();
        auto waiter = corio::create_task(aborted_post(*io));
        co_await corio::yield();  // the waiter posts its start to `io`
        io->run_one();            // the start runs: the completion is queued
        waiter.cancel();
        co_await corio::yield();  // the waiter posts the cancellation to `io`
        io.reset();               // the completion and the cancellation are destroyed uncalled
        try {
            co_await waiter;
        } catch (const corio::cancelled_error&) {
            co_return true;
        }
        co_return false;
    }());
    REQUIRE(cancelled);
}

TEST_CASE("cancel racing with completion: exactly one outcome, never a hang", "[use_task][cancel][stress]") {
    // Timers that expire about when the cancel arrives, on 4 workers: each
    // task either finishes its wait or sees cancelled_error, and every one ends.
    const int outcomes = corio::run(
        []() -> corio::task<int> {
            std::vector<corio::task_handle<int>> tasks;
            for (int i = 0; i < 2000; ++i) {
                tasks.push_back(corio::create_task([](int i) -> corio::task<int> {
                    asio::steady_timer timer(corio::get_running_loop().io_context(), std::chrono::microseconds(i % 200));
                    co_await timer.async_wait(corio::use_task);
                    co_return 1;
                }(i)));
            }
            for (std::size_t i = 0; i < tasks.size(); i += 2) tasks[i].cancel();
            int ended = 0;
            for (auto& t : tasks) {
                try {
                    ended += co_await t;
                } catch (const corio::cancelled_error&) {
                    ++ended;
                }
            }
            co_return ended;
        }(),
        {.workers = 4});
    REQUIRE(outcomes == 2000);
}
