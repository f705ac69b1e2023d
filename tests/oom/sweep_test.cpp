// Fault-injection sweeps (sweep.hpp) of tasks, timeouts, synchronization
// primitives, the blocking pool, HTTP and subprocesses; the streams' are
// in stream_sweep_test.cpp.
#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "corio/corio.hpp"
#include "corio/http.hpp"
#include "sweep.hpp"

using namespace std::chrono_literals;
using corio_oom::check;
using corio_oom::sweep;

namespace {

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
        const auto server_failed = corio_oom::watch_reported_failures();
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
                if (!answered) co_await corio_oom::expect_reported_failure(*server_failed);
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
