#include "corio/async_generator.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "counted.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;
using corio_test::counted;

namespace {

/// Yields 0..n-1, suspending on the loop before each value.
corio::async_generator<int> ticks(int n) {
    for (int i = 0; i < n; ++i) {
        co_await corio::sleep(0ms);
        co_yield i;
    }
}

}  // namespace

TEST_CASE("async_generator: next() gives each yielded value, then nullopt", "[async_generator]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto got = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        std::vector<int> out;
        auto g = ticks(5);
        while (std::optional<int> v = co_await g.next()) out.push_back(*v);
        out.push_back((co_await g.next()).has_value() ? -1 : 99);  // still nullopt afterwards
        co_return out;
    });
    REQUIRE(got == std::vector<int>{0, 1, 2, 3, 4, 99});
}

TEST_CASE("async_generator: the awaitable iterator form walks the same values", "[async_generator]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto got = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        std::vector<int> out;
        auto g = ticks(4);
        for (auto it = co_await g.begin(); it != g.end(); co_await ++it) out.push_back(*it);
        auto empty = ticks(0);
        auto it = co_await empty.begin();
        out.push_back(it == empty.end() ? 99 : -1);
        co_return out;
    });
    REQUIRE(got == std::vector<int>{0, 1, 2, 3, 99});
}

TEST_CASE("async_generator: the body runs only when the consumer asks, one step at a time", "[async_generator]") {
    const auto log = corio_test::run_in(corio_test::standalone, []() -> corio::task<std::vector<std::string>> {
        std::vector<std::string> log;
        auto g = [](std::vector<std::string>& log) -> corio::async_generator<int> {
            log.push_back("start");
            co_yield 1;
            log.push_back("resumed");
            co_await corio::yield();
            co_yield 2;
            log.push_back("end");
        }(log);
        co_await corio::yield();
        log.push_back("before next");
        auto a = co_await g.next();
        log.push_back("got " + std::to_string(*a));
        auto b = co_await g.next();
        log.push_back("got " + std::to_string(*b));
        auto c = co_await g.next();
        log.push_back(c ? "value" : "nullopt");
        co_return log;
    });
    REQUIRE(log == std::vector<std::string>{"before next", "start", "got 1", "resumed", "got 2", "end", "nullopt"});
}

TEST_CASE("async_generator: an lvalue yield is copied, an rvalue moved; move-only values work",
          "[async_generator]") {
    const auto ok = corio_test::run_in(corio_test::standalone, []() -> corio::task<bool> {
        auto strings = []() -> corio::async_generator<std::string> {
            std::string s = "kept";
            co_yield s;
            co_yield s;  // the consumer's copy did not take it away
            co_yield "converted";
        }();
        auto a = co_await strings.next();
        auto b = co_await strings.next();
        auto c = co_await strings.next();
        auto pointers = []() -> corio::async_generator<std::unique_ptr<int>> {
            co_yield std::make_unique<int>(7);
        }();
        auto p = co_await pointers.next();
        co_return *a == "kept" && *b == "kept" && *c == "converted" && **p == 7;
    });
    REQUIRE(ok);
}

TEST_CASE("async_generator: the body can await tasks and a queue fed from another task",
          "[async_generator]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto sum = corio_test::run_in(mode, []() -> corio::task<long> {
        corio::queue<int> q(2);
        auto producer = corio::create_task([](corio::queue<int>& q) -> corio::task<void> {
            for (int i = 1; i <= 200; ++i) co_await q.put(i);
            co_await q.put(0);  // end marker
        }(q));
        auto doubled = [](corio::queue<int>& q) -> corio::async_generator<int> {
            for (;;) {
                const int v = co_await q.get();
                if (v == 0) co_return;
                co_yield co_await [](int v) -> corio::task<int> {
                    co_await corio::yield();
                    co_return 2 * v;
                }(v);
            }
        }(q);
        long sum = 0;
        for (auto it = co_await doubled.begin(); it != doubled.end(); co_await ++it) sum += *it;
        co_await producer;
        co_return sum;
    });
    REQUIRE(sum == 2L * 200 * 201 / 2);
}

TEST_CASE("async_generator: an exception in the body comes out of next(), then the generator is finished",
          "[async_generator]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto log = corio_test::run_in(mode, []() -> corio::task<std::vector<std::string>> {
        std::vector<std::string> log;
        auto g = []() -> corio::async_generator<int> {
            co_yield 1;
            co_await corio::sleep(1ms);
            throw std::runtime_error("boom");
        }();
        log.push_back(std::to_string(*co_await g.next()));
        try {
            (void)co_await g.next();
            log.push_back("no exception");
        } catch (const std::runtime_error& e) {
            log.push_back(e.what());
        }
        log.push_back((co_await g.next()).has_value() ? "value" : "nullopt");
        auto from_iterator = []() -> corio::async_generator<int> {
            throw std::logic_error("before the first value");
            co_return;
        }();
        try {
            (void)co_await from_iterator.begin();
        } catch (const std::logic_error& e) {
            log.push_back(e.what());
        }
        co_return log;
    });
    REQUIRE(log == std::vector<std::string>{"1", "boom", "nullopt", "before the first value"});
}

TEST_CASE("async_generator: cancelling the consumer while the body awaits unwinds the body",
          "[async_generator][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    counted::reset();
    struct result {
        bool next_threw_cancelled = false;
        bool consumer_cancelled = false;
        bool body_saw_cancel = false;
        int alive_after = -1;
    };
    const result r = corio_test::run_in(mode, []() -> corio::task<result> {
        result r;
        corio::future<void> inside;  // set when the body is about to wait
        auto consumer = corio::create_task(
            [](corio::future<void> inside, result& r) -> corio::task<void> {
                auto g = [](corio::future<void> inside, result& r) -> corio::async_generator<int> {
                    counted guard(1);
                    co_yield 1;
                    inside.set_result();
                    try {
                        co_await corio::sleep(1h);
                    } catch (const corio::cancelled_error&) {
                        r.body_saw_cancel = true;
                        throw;
                    }
                    co_yield 2;
                }(inside, r);
                (void)co_await g.next();
                try {
                    (void)co_await g.next();
                } catch (const corio::cancelled_error&) {
                    r.next_threw_cancelled = true;
                    throw;
                }
            }(inside, r));
        co_await inside;
        consumer.cancel();
        try {
            co_await consumer;
        } catch (const corio::cancelled_error&) {
            r.consumer_cancelled = consumer.cancelled();
        }
        r.alive_after = counted::alive();
        co_return r;
    });
    REQUIRE(r.body_saw_cancel);
    REQUIRE(r.next_threw_cancelled);
    REQUIRE(r.consumer_cancelled);
    REQUIRE(r.alive_after == 0);
}

TEST_CASE("async_generator: aclose() throws generator_exit at the co_yield; the body may await its cleanup",
          "[async_generator]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    counted::reset();
    struct result {
        bool cleaned_up = false;
        int alive_after_close = -1;
        bool nullopt_after_close = false;
        bool second_close_ok = false;
    };
    const result r = corio_test::run_in(mode, []() -> corio::task<result> {
        result r;
        auto g = [](bool& cleaned_up) -> corio::async_generator<int> {
            counted guard(1);
            std::exception_ptr exiting;
            try {
                for (int i = 0;; ++i) co_yield i;
            } catch (const corio::generator_exit&) {
                exiting = std::current_exception();
            }
            co_await corio::sleep(1ms);  // asynchronous cleanup, after the handler
            cleaned_up = true;
            std::rethrow_exception(exiting);
        }(r.cleaned_up);
        (void)co_await g.next();
        (void)co_await g.next();
        co_await g.aclose();
        r.alive_after_close = counted::alive();
        r.nullopt_after_close = !(co_await g.next()).has_value();
        co_await g.aclose();
        r.second_close_ok = true;
        co_return r;
    });
    REQUIRE(r.cleaned_up);
    REQUIRE(r.alive_after_close == 0);
    REQUIRE(r.nullopt_after_close);
    REQUIRE(r.second_close_ok);
}

TEST_CASE("async_generator: aclose() of a body that was never started runs none of it", "[async_generator]") {
    counted::reset();
    const auto ran = corio_test::run_in(corio_test::standalone, []() -> corio::task<bool> {
        bool ran = false;
        auto g = [](counted, bool& ran) -> corio::async_generator<int> {
            ran = true;
            co_yield 1;
        }(counted(3), ran);
        co_await g.aclose();
        co_return ran || counted::alive() != 0;
    });
    REQUIRE_FALSE(ran);
}

TEST_CASE("async_generator: aclose() reports a body that yields again or fails while closing",
          "[async_generator]") {
    const auto log = corio_test::run_in(corio_test::standalone, []() -> corio::task<std::vector<std::string>> {
        std::vector<std::string> log;
        auto stubborn = []() -> corio::async_generator<int> {
            for (;;) {
                try {
                    co_yield 1;
                } catch (const corio::generator_exit&) {
                }
            }
        }();
        (void)co_await stubborn.next();
        try {
            co_await stubborn.aclose();
        } catch (const std::runtime_error& e) {
            log.push_back(e.what());
        }
        auto failing = []() -> corio::async_generator<int> {
            try {
                co_yield 1;
            } catch (const corio::generator_exit&) {
                throw std::logic_error("cleanup failed");
            }
        }();
        (void)co_await failing.next();
        try {
            co_await failing.aclose();
        } catch (const std::logic_error& e) {
            log.push_back(e.what());
        }
        auto returning = []() -> corio::async_generator<int> {
            try {
                co_yield 1;
            } catch (const corio::generator_exit&) {
            }
        }();
        (void)co_await returning.next();
        co_await returning.aclose();
        log.push_back("returned");
        co_return log;
    });
    REQUIRE(log == std::vector<std::string>{"async generator ignored generator_exit", "cleanup failed", "returned"});
}

TEST_CASE("async_generator: destroying an unfinished generator destroys its frame", "[async_generator]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    counted::reset();
    const auto alive = corio_test::run_in(mode, []() -> corio::task<int> {
        {
            auto g = [](counted) -> corio::async_generator<int> {
                counted local(2);
                for (int i = 0;; ++i) {
                    co_await corio::sleep(0ms);
                    co_yield i;
                }
            }(counted(1));
            (void)co_await g.next();
            (void)co_await g.next();
        }
        { auto never_started = [](counted) -> corio::async_generator<int> { co_yield 1; }(counted(3)); }
        co_return counted::alive();
    });
    REQUIRE(alive == 0);
}

TEST_CASE("async_generator: a second consumer while a step is in progress is refused", "[async_generator]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto log = corio_test::run_in(mode, []() -> corio::task<std::vector<std::string>> {
        std::vector<std::string> log;
        corio::future<void> inside;
        corio::future<void> release;
        auto g = [](corio::future<void> inside, corio::future<void> release) -> corio::async_generator<int> {
            inside.set_result();
            co_await release;
            co_yield 1;
        }(inside, release);
        auto first = corio::create_task([](corio::async_generator<int>& g) -> corio::task<int> {
            co_return *co_await g.next();
        }(g));
        co_await inside;
        try {
            (void)co_await g.next();
        } catch (const std::runtime_error& e) {
            log.push_back(e.what());
        }
        release.set_result();
        log.push_back(std::to_string(co_await first));
        co_return log;
    });
    REQUIRE(log == std::vector<std::string>{"async generator is already running", "1"});
}

TEST_CASE("async_generator: shutdown finalises generators owned by pending tasks (no shutdown_asyncgens needed)",
          "[async_generator][shutdown]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    counted::reset();
    corio_test::run_in(mode, []() -> corio::task<void> {
        // Two consumers left pending when main returns: one suspended inside
        // the generator's await, one elsewhere with its generator at a co_yield.
        auto inside = []() -> corio::task<void> {
            auto g = []() -> corio::async_generator<int> {
                counted guard(1);
                co_await corio::sleep(1h);
                co_yield 1;
            }();
            (void)co_await g.next();
        };
        auto outside = []() -> corio::task<void> {
            auto g = []() -> corio::async_generator<int> {
                counted guard(2);
                for (;;) co_yield 1;
            }();
            (void)co_await g.next();
            co_await corio::sleep(1h);
        };
        (void)corio::create_task(inside());
        (void)corio::create_task(outside());
        co_await corio::sleep(1ms);
    });
    REQUIRE(counted::alive() == 0);
}
