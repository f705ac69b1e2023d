#include "corio/concurrent_future.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "corio/corio.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {

/// A loop running on threads of its own, so that the test thread stays a
/// plain thread: a standalone loop driven by one thread (run_forever), or a
/// 2-worker runtime (whose second worker's loop is the target).
class loop_elsewhere {
public:
    explicit loop_elsewhere(corio_test::run_mode mode) {
        if (mode == corio_test::multi_worker) {
            runtime_ = std::make_unique<corio::runtime>(corio::run_options{.workers = 2});
            return;
        }
        standalone_ = corio::new_event_loop();
        driver_ = std::thread([loop = standalone_] { loop->run_forever(); });
    }
    ~loop_elsewhere() {
        if (!standalone_) return;
        standalone_->call_soon_threadsafe([loop = standalone_.get()] { loop->stop(); });
        driver_.join();
    }
    corio::event_loop& loop() { return runtime_ ? runtime_->loop(1) : *standalone_; }

private:
    std::unique_ptr<corio::runtime> runtime_;
    std::shared_ptr<corio::event_loop> standalone_;
    std::thread driver_;
};

corio::task<int> slow_add(int a, int b) {
    co_await corio::sleep(1ms);
    co_return a + b;
}

/// Tells `inside` it is about to wait, then sleeps for an hour; records a cancellation.
corio::task<int> sleeper(std::shared_ptr<std::promise<void>> inside, std::atomic<bool>& saw_cancel, bool swallow) {
    inside->set_value();
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        saw_cancel = true;
        if (!swallow) throw;
    }
    co_return 7;
}

}  // namespace

TEST_CASE("plain threads run coroutines on a running loop and block for their results", "[concurrent_future]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    loop_elsewhere target(mode);
    auto f = corio::run_coroutine_threadsafe(slow_add(20, 22), target.loop());
    REQUIRE(f.valid());
    REQUIRE(f.get() == 42);
    REQUIRE_FALSE(f.valid());  // get() took the value
    REQUIRE_THROWS_AS(f.get(), corio::invalid_state_error);

    constexpr int threads = 4, per_thread = 50;
    std::vector<long> sums(threads);
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
        submitters.emplace_back([&, t] {
            std::vector<corio::concurrent_future<int>> futures;
            for (int i = 0; i < per_thread; ++i)
                futures.push_back(corio::run_coroutine_threadsafe(slow_add(t, i), target.loop()));
            for (auto& f : futures) sums[t] += f.get();
        });
    }
    for (auto& s : submitters) s.join();
    for (int t = 0; t < threads; ++t) REQUIRE(sums[t] == t * per_thread + per_thread * (per_thread - 1) / 2);
}

TEST_CASE("concurrent_future::get rethrows the task's exception and moves a move-only value out",
          "[concurrent_future]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    loop_elsewhere target(mode);
    auto failing = corio::run_coroutine_threadsafe(
        []() -> corio::task<int> {
            co_await corio::yield();
            throw std::runtime_error("from the loop");
        }(),
        target.loop());
    REQUIRE_THROWS_WITH(failing.get(), "from the loop");
    auto pointer = corio::run_coroutine_threadsafe(
        []() -> corio::task<std::unique_ptr<int>> { co_return std::make_unique<int>(3); }(), target.loop());
    REQUIRE(*pointer.get() == 3);
    auto nothing = corio::run_coroutine_threadsafe([]() -> corio::task<void> { co_return; }(), target.loop());
    nothing.get();
    REQUIRE_FALSE(nothing.valid());
}

TEST_CASE("get(timeout) throws timeout_error and leaves the task running; cancel() through the future cancels it",
          "[concurrent_future][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    loop_elsewhere target(mode);
    auto inside = std::make_shared<std::promise<void>>();
    auto entered = inside->get_future();
    std::atomic<bool> saw_cancel{false};
    auto f = corio::run_coroutine_threadsafe(sleeper(inside, saw_cancel, false), target.loop());
    entered.wait();  // the task is about to sleep
    REQUIRE_THROWS_AS(f.get(5ms), corio::timeout_error);
    REQUIRE(f.valid());
    REQUIRE_FALSE(f.wait_for(1ms));
    REQUIRE_FALSE(f.done());
    REQUIRE(f.cancel());
    f.wait();
    REQUIRE(f.done());
    REQUIRE(f.cancelled());
    REQUIRE(saw_cancel);
    REQUIRE_FALSE(f.cancel());  // already done
    REQUIRE_THROWS_AS(f.get(1s), corio::cancelled_error);
}

TEST_CASE("a task that swallows the cancellation is reported as it really ended", "[concurrent_future][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    loop_elsewhere target(mode);
    auto inside = std::make_shared<std::promise<void>>();
    auto entered = inside->get_future();
    std::atomic<bool> saw_cancel{false};
    auto f = corio::run_coroutine_threadsafe(sleeper(inside, saw_cancel, true), target.loop());
    entered.wait();
    REQUIRE(f.cancel());
    REQUIRE(f.get() == 7);
    REQUIRE(saw_cancel);
}

TEST_CASE("blocking on a concurrent_future inside a loop is refused; wrap_future awaits it instead",
          "[concurrent_future]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto log = corio_test::run_in(mode, []() -> corio::task<std::vector<std::string>> {
        std::vector<std::string> log;
        auto f = corio::run_coroutine_threadsafe(slow_add(2, 3), corio::get_running_loop());
        try {
            f.wait();
        } catch (const std::runtime_error& e) {
            log.push_back(e.what());
        }
        try {
            (void)f.get(1ms);
        } catch (const std::runtime_error&) {
            log.push_back("get too");
        }
        log.push_back(std::to_string(co_await corio::wrap_future(std::move(f))));
        co_return log;
    });
    REQUIRE(log == std::vector<std::string>{"cannot block inside a running event loop; co_await instead", "get too",
                                            "5"});
}

TEST_CASE("wrap_future of a concurrent_future awaits a task on another loop; cancelling the awaiter cancels it",
          "[concurrent_future][cancel]") {
    loop_elsewhere other(corio_test::standalone);
    corio::event_loop& other_loop = other.loop();
    std::atomic<bool> saw_cancel{false};
    struct result {
        int sum = 0;
        bool awaiter_cancelled = false;
        bool remote_cancelled = false;
    };
    const result r = corio::run(
        [](corio::event_loop& other_loop, std::atomic<bool>& saw_cancel) -> corio::task<result> {
            result r;
            r.sum = co_await corio::wrap_future(corio::run_coroutine_threadsafe(slow_add(1, 2), other_loop));
            auto inside = std::make_shared<std::promise<void>>();
            auto entered = inside->get_future();
            auto remote = corio::run_coroutine_threadsafe(sleeper(inside, saw_cancel, false), other_loop);
            corio::task_handle<int> remote_task = remote.handle();
            auto awaiter = corio::create_task(
                [](corio::concurrent_future<int> f) -> corio::task<int> { co_return co_await corio::wrap_future(std::move(f)); }(
                    std::move(remote)));
            co_await corio::wrap_future(std::move(entered));  // the remote task is asleep
            co_await corio::sleep(1ms);                      // and the awaiter waits on it
            awaiter.cancel();
            try {
                (void)co_await awaiter;
            } catch (const corio::cancelled_error&) {
                r.awaiter_cancelled = true;
            }
            try {
                (void)co_await remote_task;
            } catch (const corio::cancelled_error&) {
                r.remote_cancelled = remote_task.cancelled();
            }
            co_return r;
        }(other_loop, saw_cancel),
        corio::run_options{.workers = 2});
    REQUIRE(r.sum == 3);
    REQUIRE(r.awaiter_cancelled);
    REQUIRE(r.remote_cancelled);
    REQUIRE(saw_cancel);
}

TEST_CASE("wrap_future awaits a std::future on the executor, never blocking the loop", "[concurrent_future]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::promise<int> value;
    std::promise<void> failure;
    std::atomic<int> ticks{0};
    // Sets the promises only once the loop has ticked while its task waits:
    // a wrap_future that blocked the loop would starve the ticker.
    std::thread setter([&] {
        const auto give_up = std::chrono::steady_clock::now() + 30s;
        while (ticks < 3 && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
        value.set_value(5);
        failure.set_exception(std::make_exception_ptr(std::runtime_error("std::future failed")));
    });
    struct result {
        int value = 0;
        std::string error;
        bool shared_ok = false;
    };
    const result r = corio_test::run_in(mode, [&]() -> corio::task<result> {
        result r;
        auto ticker = corio::create_task([](std::atomic<int>& ticks) -> corio::task<void> {
            for (;;) {
                ++ticks;
                co_await corio::sleep(1ms);
            }
        }(ticks));
        r.value = co_await corio::wrap_future(value.get_future());
        try {
            co_await corio::wrap_future(failure.get_future(), corio::get_running_loop());
        } catch (const std::runtime_error& e) {
            r.error = e.what();
        }
        std::promise<std::string> text;
        std::shared_future<std::string> shared = text.get_future().share();
        text.set_value("shared");
        r.shared_ok = co_await corio::wrap_future(shared) == "shared" && shared.get() == "shared";
        ticker.cancel();
        try {
            co_await ticker;
        } catch (const corio::cancelled_error&) {
        }
        co_return r;
    });
    setter.join();
    REQUIRE(ticks >= 3);
    REQUIRE(r.value == 5);
    REQUIRE(r.error == "std::future failed");
    REQUIRE(r.shared_ok);
}

TEST_CASE("bad input: a closed loop, an empty std::future, an empty concurrent_future", "[concurrent_future]") {
    auto loop = corio::new_event_loop();
    loop->close();
    REQUIRE_THROWS_AS(corio::run_coroutine_threadsafe(slow_add(1, 1), *loop), std::runtime_error);
    corio::concurrent_future<int> empty;
    REQUIRE_FALSE(empty.valid());
    REQUIRE_THROWS_AS(empty.done(), corio::invalid_state_error);
    REQUIRE_THROWS_AS(empty.wait(), corio::invalid_state_error);
    const bool refused = corio_test::run_in(corio_test::standalone, []() -> corio::task<bool> {
        try {
            (void)corio::wrap_future(std::future<int>());
        } catch (const std::future_error&) {
            co_return true;
        }
        co_return false;
    });
    REQUIRE(refused);
}
