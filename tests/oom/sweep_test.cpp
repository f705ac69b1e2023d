// Fault-injection sweeps: a scenario runs on a standalone loop again and
// again, the first allocation through operator new on the loop's thread
// failing in the first run, the second in the second, and so on, until a
// run makes no allocation that fails. Every run must end with the
// scenario's own outcome or with std::bad_alloc out of it (or a stream's
// asio::error::no_memory), leave the main task with no wait armed, and
// leak nothing (LSan, in the ASan build, checks after each run); a run
// that crashes, hangs or trips a sanitizer fails the test. Each scenario
// is swept twice: with the frame allocator's free lists as they are, and
// with them held elsewhere (frame_source). CORIO_OOM_SWEEP_LOG=1 prints
// each run's number, CORIO_OOM_BACKTRACE=1 where each injected failure
// happened.
#include <catch2/catch.hpp>

#include <asio/error.hpp>

#include <chrono>
#include <cstdio>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define CORIO_SWEEP_HAS_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORIO_SWEEP_HAS_LSAN 1
#endif
#endif
#if CORIO_SWEEP_HAS_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#include "corio/corio.hpp"
#include "corio/detail/frame_allocator.hpp"
#include "corio/http.hpp"
#include "echo_lines.hpp"
#include "failing_new.hpp"
#include "left_armed.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {

/// Whether LeakSanitizer finds memory leaked now (it reports it); false
/// without it. Checked after each run, so a leak is pinned to its run (and
/// so to the failure that caused it: CORIO_OOM_BACKTRACE).
bool leak_found() {
#if CORIO_SWEEP_HAS_LSAN
    return __lsan_do_recoverable_leak_check() != 0;
#else
    return false;
#endif
}

struct sweep_run {
    bool finished = false;  // the scenario's own outcome
    bool bad_alloc = false;
    bool leaked = false;
    corio_oom::after_failure after;
};

/// Where the scenario's coroutine frames and callback nodes come from: the
/// frame allocator's free lists, as they are after the runs before (most
/// never reach operator new, so they never fail), or operator new, each
/// class's free frames being held elsewhere for the run (the first frame
/// of each size then can fail).
enum class frame_source { cached, fresh };

/// Holds every free frame of every class the frame allocator recycles.
class all_frame_classes_drained {
public:
    all_frame_classes_drained() {
        // The classes recycled: frames up to 1 KiB, in steps of one block
        // (lib/frame_allocator.cpp).
        const std::size_t step = corio::detail::frame_block_size(1);
        for (std::size_t size = step; size <= 1024; size += step)
            held_.push_back(std::make_unique<corio_oom::frame_class_drained>(size));
    }

private:
    std::vector<std::unique_ptr<corio_oom::frame_class_drained>> held_;
};

/// Sweeps `scenario`, a callable returning a task<void>, and returns one
/// entry per run (the last one the run in which nothing failed).
template <class Scenario>
std::vector<sweep_run> sweep_from(frame_source frames, Scenario& scenario) {
    std::vector<sweep_run> runs;
    for (std::size_t skip = 0; skip < 500; ++skip) {
        sweep_run r;
        if (std::getenv("CORIO_OOM_SWEEP_LOG")) std::fprintf(stderr, "corio_oom: run %zu\n", skip);
        bool failed = false;
        corio_test::run_in(corio_test::standalone, [&]() -> corio::task<void> {
            std::optional<all_frame_classes_drained> drained;
            if (frames == frame_source::fresh) drained.emplace();
            corio_oom::fail_allocation({.skip = skip});
            try {
                co_await scenario();
                r.finished = true;
            } catch (const std::bad_alloc&) {
                r.bad_alloc = true;
            } catch (const std::system_error& e) {
                // A stream whose write could not start for want of memory
                // failed with this error (README, Out of memory).
                if (e.code() != asio::error::no_memory) throw;
                r.bad_alloc = true;
            }
            failed = !corio_oom::cancel_pending_failure();
            co_await corio_oom::check_not_left_armed(r.after);
        });
        r.leaked = leak_found();
        runs.push_back(r);
        if (!failed) break;
    }
    return runs;
}

/// Both sweeps of `scenario`: frames cached, then fresh.
template <class Scenario>
std::vector<std::vector<sweep_run>> sweep(Scenario scenario) {
    return {sweep_from(frame_source::cached, scenario), sweep_from(frame_source::fresh, scenario)};
}

void check(const std::vector<std::vector<sweep_run>>& sweeps) {
    for (std::size_t s = 0; s < sweeps.size(); ++s) {
        const std::vector<sweep_run>& runs = sweeps[s];
        INFO((s == 0 ? "frames cached" : "fresh frames"));
        REQUIRE(runs.size() >= 2);
        CHECK(runs.back().finished);
        for (std::size_t i = 0; i < runs.size(); ++i) {
            INFO("run " << i << " of " << runs.size());
            CHECK(runs[i].finished != runs[i].bad_alloc);
            CHECK_FALSE(runs[i].leaked);
            CHECK(runs[i].after.cancel_seen);
            CHECK(runs[i].after.sleep_of_20ms >= 20ms);
        }
    }
}

corio::task<int> value_after(int v, corio::clock::duration d) {
    co_await corio::sleep(d);
    co_return v;
}

}  // namespace

TEST_CASE("out of memory at each allocation of a gather", "[oom][gather]") {
    check(sweep([]() -> corio::task<void> {
        auto [a, b, c] = co_await corio::gather(value_after(1, 1ms), value_after(2, 0ms), value_after(3, 2ms));
        if (a + b + c != 6) throw std::logic_error("gather's values");
    }));
}

TEST_CASE("out of memory at each allocation of a task_group", "[oom][task_group]") {
    // A child that ran out of memory comes out of join() in an
    // exception_group (asyncio's TaskGroup): passed on as the bad_alloc.
    check(sweep([]() -> corio::task<void> {
        corio::task_group tg;
        for (int i = 0; i < 3; ++i) tg.create_task(value_after(i, std::chrono::milliseconds(i)));
        std::exception_ptr child_failure;
        try {
            co_await tg.join();
        } catch (const corio::exception_group& g) {
            if (g.exceptions().size() != 1) throw;
            child_failure = g.exceptions().front();
        }
        if (child_failure) std::rethrow_exception(child_failure);
    }));
}

TEST_CASE("out of memory at each allocation of wait_for and timeout", "[oom][timeout]") {
    check(sweep([]() -> corio::task<void> {
        try {
            co_await corio::wait_for(value_after(1, 1s), 1ms);
        } catch (const corio::timeout_error&) {
        }
        try {
            auto scope = corio::timeout(1ms);
            co_await scope.run(value_after(1, 1s));
        } catch (const corio::timeout_error&) {
        }
    }));
}

TEST_CASE("out of memory at each allocation of a queue and a lock", "[oom][queue]") {
    // In a gather, so that a side that fails cancels the other (which would
    // otherwise wait for it forever, in asyncio too).
    check(sweep([]() -> corio::task<void> {
        corio::queue<std::string> q(1);
        corio::lock l;
        co_await corio::gather(
            [](corio::queue<std::string>& q, corio::lock& l) -> corio::task<void> {
                for (int i = 0; i < 3; ++i) {
                    co_await q.put(std::string(40, 'x'));
                    auto guard = co_await l.scoped();
                    co_await corio::sleep(0ms);  // the other side finds the lock taken
                }
            }(q, l),
            [](corio::queue<std::string>& q, corio::lock& l) -> corio::task<void> {
                for (int i = 0; i < 3; ++i) {
                    (void)co_await q.get();
                    auto guard = co_await l.scoped();
                }
            }(q, l));
    }));
}

TEST_CASE("out of memory at each allocation of to_thread and wait", "[oom][executor]") {
    check(sweep([]() -> corio::task<void> {
        const std::string s = co_await corio::to_thread([] { return std::string(40, 'y'); });
        std::vector<corio::task_handle<int>> hs;
        hs.push_back(corio::create_task(value_after(1, 1ms)));
        hs.push_back(corio::create_task(value_after(2, 1s)));
        auto [done, pending] = co_await corio::wait(std::move(hs), {.return_when = corio::first_completed});
        for (auto& h : pending) h.cancel();
        if (s.size() != 40 || done.size() != 1) throw std::logic_error("to_thread or wait");
    }));
}

namespace {

/// A flag the running loop's exception handler sets from now on: the
/// server's side reported a failure. Shared: the loop may report one after
/// the scenario's frame is gone.
std::shared_ptr<bool> flag_reported_failures() {
    auto reported = std::make_shared<bool>(false);
    corio::get_running_loop().set_exception_handler(
        [reported](corio::event_loop&, const corio::exception_context&) { *reported = true; });
    return reported;
}

/// Two lines there and back on a new connection; false if the server's
/// side ended the connection first.
corio::task<bool> echo_two_lines(unsigned short port) {
    auto [reader, writer] = co_await corio::open_connection("127.0.0.1", port);
    const std::string line(40, 'z');
    bool echoed = true;
    for (int i = 0; i < 2 && echoed; ++i) {
        writer.write(line + "\n");
        co_await writer.drain();
        echoed = co_await reader.readline() == line + "\n";
    }
    writer.close();
    co_return echoed;
}

}  // namespace

TEST_CASE("out of memory at each allocation of a stream round trip", "[oom][streams]") {
    // The server's side of a connection that runs out of memory (its accept,
    // its handler) is reported to the loop's exception handler and the
    // connection ends; the listener must go on, so a second connection
    // after such a failure gets its lines back.
    check(sweep([]() -> corio::task<void> {
        const auto server_failed = flag_reported_failures();
        corio::server srv = co_await corio::start_server(corio_test::echo_lines, "127.0.0.1", 0);
        bool echoed = false;
        try {
            for (int attempt = 0; attempt < 2 && !echoed; ++attempt) {
                try {
                    echoed = co_await corio::wait_for(echo_two_lines(srv.port()), 5s);
                } catch (const std::system_error&) {  // reset by the server's side
                }
                if (!echoed && !*server_failed) throw std::logic_error("a connection ended with no failure reported");
            }
        } catch (...) {
            srv.close();
            throw;
        }
        srv.close();
        co_await srv.wait_closed();
        if (!echoed) throw std::logic_error("no echo after the server's failure");
    }));
}

namespace {

namespace http = corio::http;

/// GET / and a POST to /items/{id} through a middleware; true if both
/// were answered as they should be. (No JSON: nlohmann::json's destructor
/// allocates, so a JSON value dropped when memory has run out ends the
/// process, whatever corio does.)
corio::task<bool> get_and_post(http::client_session& session, std::string base) {
    const http::client_response got = co_await session.get(base + "/");
    if (got.status() != 200 || co_await got.text() != std::string(40, 'h')) co_return false;
    http::request_options o;
    o.data = std::string(40, 'p');
    const http::client_response posted = co_await session.post(base + "/items/7", std::move(o));
    co_return posted.status() == 200 && co_await posted.text() == "7:" + std::string(40, 'p') &&
        posted.headers().get("x-seen") == "yes";
}

}  // namespace

TEST_CASE("out of memory at each allocation of HTTP requests to corio's server", "[oom][http]") {
    // As the stream round trip, one level up: corio's client asks corio's
    // server; requests that the server's side fails (500, or a connection
    // ended) are asked again on a new connection, and must be answered.
    check(sweep([]() -> corio::task<void> {
        const auto server_failed = flag_reported_failures();
        http::application app;
        app.router().get("/", [](http::request&) -> corio::task<http::response> {
            co_return http::response{.text = std::string(40, 'h')};
        });
        app.router().post("/items/{id}", [](http::request& req) -> corio::task<http::response> {
            // Awaited first: GCC 12 miscompiles a co_await inside a braced
            // initializer (the string it made was freed before its use).
            const std::string body = co_await req.text();
            co_return http::response{.text = req.match_info().at("id") + ":" + body};
        });
        app.add_middleware([](http::request& req, const http::handler& next) -> corio::task<http::response> {
            http::response r = co_await next(req);
            r.headers.set("X-Seen", "yes");
            co_return r;
        });
        http::app_runner runner(app);
        http::tcp_site site(runner, "127.0.0.1", 0, {});
        bool answered = false;
        std::exception_ptr failure;
        try {
            co_await site.start();
            http::client_session session;
            const std::string base = "http://127.0.0.1:" + std::to_string(site.port());
            for (int attempt = 0; attempt < 2 && !answered; ++attempt) {
                try {
                    answered = co_await corio::wait_for(get_and_post(session, base), 5s);
                } catch (const std::system_error&) {        // reset by the server's side
                } catch (const http::client_payload_error&) {  // cut short by it
                }
                if (!answered && !*server_failed) throw std::logic_error("a request failed with no failure reported");
            }
            co_await session.close();
        } catch (...) {
            failure = std::current_exception();
        }
        co_await runner.cleanup();
        if (failure) std::rethrow_exception(failure);
        if (!answered) throw std::logic_error("no answer after the server's failure");
    }));
}

TEST_CASE("out of memory at each allocation of a subprocess's communicate", "[oom][subprocess]") {
    check(sweep([]() -> corio::task<void> {
        std::vector<std::string> argv{"cat"};
        auto p = co_await corio::create_subprocess_exec(
            std::move(argv), corio::subprocess_options{.stdin_ = corio::pipe, .stdout_ = corio::pipe});
        std::exception_ptr failure;
        try {
            auto [out, err] = co_await p.communicate(std::string(100, 'c'));
            if (out != std::string(100, 'c')) throw std::logic_error("cat's output");
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) {  // no zombie left behind: the child is ended and reaped
            try {
                p.kill();
            } catch (const std::system_error&) {  // it has exited already (asyncio's ProcessLookupError)
            }
            co_await p.wait();
            std::rethrow_exception(failure);
        }
        if (co_await p.wait() != 0) throw std::logic_error("cat's exit code");
    }));
}

TEST_CASE("out of memory at each allocation of a barrier, a semaphore, a condition and an event",
          "[oom][barrier][semaphore][condition]") {
    check(sweep([]() -> corio::task<void> {
        corio::barrier b(2);
        corio::semaphore s(1);
        corio::condition c;
        corio::event e;
        int turns = 0;
        const auto side = [](corio::barrier& b, corio::semaphore& s, corio::condition& c, corio::event& e,
                             int& turns, bool first) -> corio::task<void> {
            for (int round = 0; round < 2; ++round) {
                (void)co_await b.wait();
                {
                    auto permit = co_await s.scoped();
                    co_await corio::sleep(0ms);  // the other side finds the permit taken
                }
                co_await c.acquire();
                ++turns;
                c.notify_all();
                while (turns < 2 * (round + 1)) (void)co_await c.wait();
                c.release();
            }
            if (first) e.set();
            else co_await e.wait();
        };
        co_await corio::gather(side(b, s, c, e, turns, true), side(b, s, c, e, turns, false));
        if (turns != 4) throw std::logic_error("the sides' turns");
    }));
}

namespace {

corio::async_generator<int> counting_to(int n) {
    for (int i = 1; i <= n; ++i) {
        co_await corio::sleep(0ms);
        co_yield i;
    }
}

}  // namespace

TEST_CASE("out of memory at each allocation of an async generator, as_completed and shield",
          "[oom][async_generator][wait]") {
    check(sweep([]() -> corio::task<void> {
        int sum = 0;
        auto g = counting_to(4);
        while (std::optional<int> v = co_await g.next()) sum += *v;
        std::vector<corio::task_handle<int>> hs;
        hs.push_back(corio::create_task(value_after(10, 2ms)));
        hs.push_back(corio::create_task(value_after(20, 0ms)));
        for (auto f : corio::as_completed(hs)) sum += co_await f;
        sum += co_await corio::shield(corio::create_task(value_after(30, 1ms)));
        if (sum != 10 + 30 + 30) throw std::logic_error("the values");
    }));
}

TEST_CASE("out of memory at each allocation of queues that shut down, context variables and gather_settled",
          "[oom][queue][context_var]") {
    check(sweep([]() -> corio::task<void> {
        static corio::context_var<std::string> who("who", "nobody");
        who.set(std::string(40, 'w'));  // each child starts with a copy of this context
        corio::priority_queue<int> q(2);
        // Each side shuts the queue down as it ends, however it ends, so a
        // side that ran out of memory leaves the other none to wait for.
        struct shut_down_at_end {
            corio::priority_queue<int>& q;
            ~shut_down_at_end() { q.shutdown(); }
        };
        const auto producer = [](corio::priority_queue<int>& q) -> corio::task<int> {
            const shut_down_at_end at_end{q};
            for (int i = 3; i > 0; --i) co_await q.put(i);
            co_return static_cast<int>(who.get().size());
        };
        const auto consumer = [](corio::priority_queue<int>& q) -> corio::task<int> {
            const shut_down_at_end at_end{q};
            int sum = 0;
            try {
                for (;;) sum += co_await q.get();
            } catch (const corio::queue_shut_down&) {
            }
            co_return sum;
        };
        auto [produced, consumed] = co_await corio::gather_settled(producer(q), consumer(q));
        if (!produced) std::rethrow_exception(produced.error());
        if (!consumed) std::rethrow_exception(consumed.error());
        if (produced.value() != 40 || consumed.value() != 6) throw std::logic_error("the queue's items or the context");
    }));
}
