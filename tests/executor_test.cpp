// Executors: run_in_executor / to_thread run blocking functions on the
// elastic pool, never on a worker, and bring back results, exceptions and
// cancellation the asyncio way.
#include "corio/executor.hpp"

#include <catch2/catch.hpp>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_reduce.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/event_loop.hpp"
#include "corio/policy.hpp"
#include "corio/runtime.hpp"
#include "corio/sleep.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {
/// Polls `pred` every millisecond for up to 5 s.
template <class P>
bool eventually(P pred) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}
}  // namespace

TEST_CASE("run_in_executor and to_thread bring f's result and exception to the awaiting task", "[executor]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct results {
        int sum = 0;
        std::string text;
        std::string error;
        bool void_ran = false;
    };
    auto r = corio_test::run_in(mode, [&]() -> corio::task<results> {
        results out;
        auto& loop = corio::get_running_loop();
        out.sum = co_await loop.run_in_executor(nullptr, [](int a, int b) { return a + b; }, 2, 3);
        out.text = co_await corio::to_thread([](std::string s) { return s + "!"; }, std::string("hi"));
        co_await corio::to_thread([&out] { out.void_ran = true; });
        // A named future, not a temporary: it keeps the exception alive until
        // after the catch, so the pool thread never frees it (TSan cannot see
        // libstdc++'s exception refcount, which is what really orders that).
        auto failing = corio::to_thread([]() -> int { throw std::runtime_error("boom"); });
        try {
            co_await failing;
        } catch (const std::runtime_error& e) {
            out.error = e.what();
        }
        co_return out;
    });
    REQUIRE(r.sum == 5);
    REQUIRE(r.text == "hi!");
    REQUIRE(r.void_ran);
    REQUIRE(r.error == "boom");
}

TEST_CASE("to_thread runs f on a pool thread, never on the worker", "[executor]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct ids {
        std::thread::id worker, job;
    };
    auto r = corio_test::run_in(mode, [&]() -> corio::task<ids> {
        ids out;
        out.worker = std::this_thread::get_id();
        out.job = co_await corio::to_thread([] { return std::this_thread::get_id(); });
        co_return out;
    });
    REQUIRE(r.job != r.worker);
    REQUIRE(r.job != std::this_thread::get_id());  // the standalone loop's driver
}

TEST_CASE("10,000 concurrent to_thread calls all complete, several at a time", "[executor]") {
    std::atomic<int> running{0}, max_running{0}, finished{0};
    auto job = [&] {
        const int now = running.fetch_add(1) + 1;
        int seen = max_running.load();
        while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(1ms);
        running.fetch_sub(1);
        finished.fetch_add(1);
    };
    const int done = corio::run(
        [&]() -> corio::task<int> {
            std::vector<corio::future<void>> futures;
            futures.reserve(10000);
            for (int i = 0; i < 10000; ++i) futures.push_back(corio::to_thread(job));
            int n = 0;
            for (auto& f : futures) {
                co_await f;
                ++n;
            }
            co_return n;
        }(),
        corio::run_options{.workers = 2});
    REQUIRE(done == 10000);
    REQUIRE(finished.load() == 10000);
    REQUIRE(max_running.load() > 1);  // the pool grew past one thread
}

TEST_CASE("a job that throws does not kill its pool thread", "[executor]") {
    auto ex = std::make_shared<corio::thread_pool_executor>(1);
    auto loop = corio::new_event_loop();
    std::thread::id first, second;
    std::string error;
    const int v = loop->run_until_complete([&]() -> corio::task<int> {
        auto failing = loop->run_in_executor(ex, [&]() -> int {  // named: see the first test
            first = std::this_thread::get_id();
            throw std::logic_error("bad");
        });
        try {
            co_await failing;
        } catch (const std::logic_error& e) {
            error = e.what();
        }
        co_return co_await loop->run_in_executor(ex, [&] {
            second = std::this_thread::get_id();
            return 7;
        });
    }());
    REQUIRE(error == "bad");
    REQUIRE(v == 7);
    REQUIRE(first == second);  // the pool's one thread survived the exception
    REQUIRE(ex->threads() == 1);
}

TEST_CASE("cancelling a task awaiting run_in_executor: cancelled_error at once, a queued job never starts",
          "[executor][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    // One thread, blocked on `gate` until the test lets it go.
    auto ex = std::make_shared<corio::thread_pool_executor>(1);
    std::promise<void> gate;
    std::shared_future<void> opened = gate.get_future().share();
    std::atomic<bool> queued_job_ran{false};
    struct results {
        bool saw_cancelled = false;
        bool blocker_still_running = false;
    };
    auto r = corio_test::run_in(mode, [&]() -> corio::task<results> {
        results out;
        auto& loop = corio::get_running_loop();
        auto blocker = loop.run_in_executor(ex, [opened] { opened.wait(); });
        // A named closure: it must outlive the task that runs its body.
        auto await_queued = [&]() -> corio::task<int> {
            co_return co_await loop.run_in_executor(ex, [&] {
                queued_job_ran = true;
                return 1;
            });
        };
        auto waiter = corio::create_task(await_queued());
        co_await corio::sleep(10ms);  // let `waiter` suspend on its future
        waiter.cancel();
        try {
            co_await waiter;
        } catch (const corio::cancelled_error&) {
            out.saw_cancelled = true;
        }
        // The pool's only thread is still blocked: the task did not wait for it.
        out.blocker_still_running = !blocker.done();
        gate.set_value();
        co_await blocker;
        // FIFO, one thread: once this later job has run, the cancelled one
        // has been taken off the queue (and skipped).
        co_await loop.run_in_executor(ex, [] {});
        co_return out;
    });
    REQUIRE(r.saw_cancelled);
    REQUIRE(r.blocker_still_running);
    REQUIRE_FALSE(queued_job_ran.load());
}

TEST_CASE("a cancelled awaiter drops the result of a job that was already running", "[executor][cancel]") {
    auto loop = corio::new_event_loop();
    std::promise<void> gate;
    std::shared_future<void> opened = gate.get_future().share();
    std::atomic<bool> started{false}, finished{false};
    bool saw_cancelled = false;
    loop->run_until_complete([&]() -> corio::task<void> {
        auto fut = corio::to_thread([&, opened] {
            started = true;
            opened.wait();
            finished = true;
            return 42;
        });
        auto await_fut = [&]() -> corio::task<int> { co_return co_await fut; };  // outlives the task
        auto waiter = corio::create_task(await_fut());
        while (!started.load()) co_await corio::sleep(1ms);
        waiter.cancel();
        try {
            co_await waiter;
        } catch (const corio::cancelled_error&) {
            saw_cancelled = true;
        }
        gate.set_value();
    }());
    REQUIRE(saw_cancelled);
    REQUIRE(eventually([&] { return finished.load(); }));  // it ran to the end
}

TEST_CASE("shutdown_default_executor refuses new jobs with a clear error", "[executor]") {
    auto loop = corio::new_event_loop();
    REQUIRE(loop->run_until_complete([]() -> corio::task<int> {
        co_return co_await corio::to_thread([] { return 1; });
    }()) == 1);
    REQUIRE(loop->shutdown_default_executor(5s));
    REQUIRE_THROWS_WITH(loop->run_until_complete([]() -> corio::task<int> {
        co_return co_await corio::to_thread([] { return 1; });
    }()),
                        "executor is shut down");
    // Before any default executor exists, too.
    auto fresh = corio::new_event_loop();
    fresh->shutdown_default_executor();
    REQUIRE_THROWS_WITH(fresh->run_in_executor(nullptr, [] {}), "executor is shut down");
}

TEST_CASE("executor shutdown with a job still running returns after the timeout", "[executor]") {
    std::promise<void> gate;
    std::shared_future<void> opened = gate.get_future().share();
    std::atomic<bool> started{false};
    {
        corio::thread_pool_executor ex(2);
        ex.submit([&started, opened] {
            started = true;
            opened.wait();
        });
        REQUIRE(eventually([&] { return started.load(); }));
        REQUIRE_FALSE(ex.shutdown(50ms));  // timed out: the thread is detached
        REQUIRE_THROWS_WITH(ex.submit([] {}), "executor is shut down");
    }
    gate.set_value();  // the detached thread finishes and frees the pool's state
}

TEST_CASE("idle pool threads retire after keep_alive", "[executor]") {
    SECTION("thread_pool_executor") {
        corio::thread_pool_executor ex(4, 50ms);
        std::latch all_started(4);
        std::atomic<int> finished{0};
        for (int i = 0; i < 4; ++i)
            ex.submit([&] {
                all_started.arrive_and_wait();  // four threads, or this never returns
                ++finished;
            });
        REQUIRE(eventually([&] { return finished.load() == 4; }));
        REQUIRE(eventually([&] { return ex.threads() == 0; }));
        // And the pool starts threads again afterwards.
        std::promise<int> p;
        ex.submit([&] { p.set_value(3); });
        REQUIRE(p.get_future().get() == 3);
    }
    SECTION("the default executor, configured by run_options") {
        corio::runtime rt(corio::run_options{.workers = 2, .blocking_pool_keep_alive = 50ms});
        const int v = rt.run_until_complete([]() -> corio::task<int> {
            co_return co_await corio::to_thread([] { return 5; });
        }());
        REQUIRE(v == 5);
        auto pool = std::dynamic_pointer_cast<corio::thread_pool_executor>(rt.loop(1).default_executor());
        REQUIRE(pool);
        REQUIRE(eventually([&] { return pool->threads() == 0; }));
    }
}

TEST_CASE("tbb_executor runs a parallel_reduce while the loop keeps running", "[executor][tbb]") {
    // The job waits inside the arena until a heartbeat task on the runtime
    // has ticked three more times, which it can only do if no worker is tied
    // up by the job; then it sums 10^7 numbers with parallel_reduce.
    std::atomic<int> beats{0};
    std::atomic<bool> stop{false};
    const auto [sum, saw_beats] = corio::run(
        [](std::atomic<int>& beats, std::atomic<bool>& stop) -> corio::task<std::pair<long long, bool>> {
            auto heartbeat = corio::create_task([](std::atomic<int>& beats, std::atomic<bool>& stop) -> corio::task<void> {
                while (!stop.load()) {
                    beats.fetch_add(1);
                    co_await corio::sleep(1ms);
                }
            }(beats, stop));
            auto tbb = std::make_shared<corio::tbb_executor>();  // oneTBB's default concurrency
            auto result = co_await corio::get_running_loop().run_in_executor(tbb, [&beats] {
                const int start = beats.load();
                const auto give_up = std::chrono::steady_clock::now() + 10s;
                while (beats.load() < start + 3 && std::chrono::steady_clock::now() < give_up)
                    std::this_thread::sleep_for(100us);
                const bool loop_ran = beats.load() >= start + 3;
                const long long total = tbb::parallel_reduce(
                    tbb::blocked_range<long long>(0, 10'000'000), 0LL,
                    [](const tbb::blocked_range<long long>& r, long long acc) {
                        for (long long i = r.begin(); i != r.end(); ++i) acc += i;
                        return acc;
                    },
                    std::plus<long long>());
                return std::make_pair(total, loop_ran);
            });
            stop.store(true);
            co_await heartbeat;
            co_return result;
        }(beats, stop),
        {.workers = 1});
    REQUIRE(saw_beats);
    REQUIRE(sum == 10'000'000LL * 9'999'999LL / 2);
}
