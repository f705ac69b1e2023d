// Executors: where run_in_executor / to_thread run blocking functions, off
// the loop workers (asyncio's concurrent.futures executors). The default
// executor of a loop is an elastic thread pool (lib/blocking_pool.hpp) that
// a runtime shares between its loops.
//
//   co_await corio::to_thread(f, args...)                  // the running loop's default executor
//   co_await loop.run_in_executor(nullptr, f, args...)     // the same, for a given loop
//   co_await loop.run_in_executor(my_executor, f, args...) // any executor
//
// f(args...) runs on an executor thread, never on a worker. The awaiting
// task resumes on a worker of its loop (the loop's own thread for a
// standalone loop) with f's result or exception. If the awaiting task is
// cancelled it sees cancelled_error at once; a job that has not started
// never starts, a running one finishes and its result is dropped (asyncio).
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

#include "corio/errors.hpp"
#include "corio/future.hpp"
#include "corio/metrics.hpp"

namespace corio {

/// Runs type-erased jobs on threads of its own (asyncio's Executor).
class executor {
public:
    virtual ~executor() = default;
    /// Queues `job` to run on one of this executor's threads. Throws
    /// std::runtime_error("executor is shut down") after shutdown().
    virtual void submit(std::function<void()> job) = 0;
    /// Refuses new jobs, waits up to `timeout` for the queued and running
    /// ones; true if they all finished. Jobs still queued after the timeout
    /// are dropped (their awaiters get an error). Idempotent.
    virtual bool shutdown(std::chrono::steady_clock::duration timeout) = 0;
};

namespace detail {
class blocking_pool;
}

/// asyncio's ThreadPoolExecutor over corio's elastic pool: threads start on
/// demand up to `max_workers` and retire after `keep_alive` without work.
class thread_pool_executor final : public executor {
public:
    explicit thread_pool_executor(std::size_t max_workers = 512,
                                  std::chrono::steady_clock::duration keep_alive = std::chrono::seconds(10));
    /// Shuts down with a bounded wait (threads still in a job are detached).
    ~thread_pool_executor() override;

    void submit(std::function<void()> job) override;
    bool shutdown(std::chrono::steady_clock::duration timeout) override;
    /// Threads alive now (running a job or idle).
    std::size_t threads() const;
    /// Threads busy and idle, jobs queued (a snapshot; any thread).
    blocking_pool_metrics metrics() const;

private:
    std::unique_ptr<detail::blocking_pool> pool_;
};

/// Runs each job inside a tbb::task_arena of `max_concurrency` threads (0:
/// oneTBB's default), so blocking code built on oneTBB's parallel
/// algorithms can be awaited without tying up a loop worker. The arena's
/// threads are oneTBB's, not corio's workers.
class tbb_executor final : public executor {
public:
    explicit tbb_executor(int max_concurrency = 0);
    /// Waits (bounded) for the jobs still in the arena.
    ~tbb_executor() override;

    void submit(std::function<void()> job) override;
    bool shutdown(std::chrono::steady_clock::duration timeout) override;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

namespace detail {

/// The loop running on this thread (std::runtime_error if none) and the
/// default executor its scheduler shares, created on first use (lib/executor.cpp).
loop_core* running_core_for_executor();
std::shared_ptr<executor> default_executor_of(loop_core* loop);

/// One run_in_executor call: owns f and its arguments and completes `fut`.
/// Shared by the copies of the std::function that carries it.
template <class R, class F, class... Args>
struct executor_job {
    template <class G, class... A>
    executor_job(future<R> f, G&& g, A&&... a)
        : fut(std::move(f)), fn(std::forward<G>(g)), args(std::forward<A>(a)...) {}
    executor_job(const executor_job&) = delete;
    executor_job& operator=(const executor_job&) = delete;
    ~executor_job() {
        // Never ran (the executor dropped it at shutdown): tell the awaiter.
        if (!ran && !fut.done()) {
            try {
                fut.set_exception(std::make_exception_ptr(
                    std::runtime_error("executor was shut down before the job started")));
            } catch (const invalid_state_error&) {  // lost a race with cancel()
            }
        }
    }

    void run() noexcept {
        ran = true;
        // Cancelled before it started (the awaiting task was cancelled): never start.
        if (fut.done()) return;
        // The value lives here until set_result, not in the future: a
        // cancelled awaiter never sees it.
        using slot = std::conditional_t<std::is_void_v<R>, bool, std::optional<R>>;
        slot value{};
        std::exception_ptr error;
        try {
            if constexpr (std::is_void_v<R>) std::apply(std::move(fn), std::move(args));
            else value.emplace(std::apply(std::move(fn), std::move(args)));
        } catch (...) {
            error = std::current_exception();
        }
        // A cancel() may win the race meanwhile: the result is then dropped.
        try {
            if (error) fut.set_exception(std::move(error));  // keep no reference past the wake-up
            else if constexpr (std::is_void_v<R>) fut.set_result();
            else fut.set_result(std::move(*value));
        } catch (const invalid_state_error&) {
        } catch (...) {  // moving the value into the future threw
            try {
                fut.set_exception(std::current_exception());
            } catch (const invalid_state_error&) {
            }
        }
    }

    future<R> fut;
    F fn;
    std::tuple<Args...> args;
    bool ran = false;  // only the executor thread that runs it, or the last owner, touches it
};

template <class F, class... Args>
using executor_result_t = std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;

/// Submits f(args...) to `ex`; the returned future is bound to `loop`.
template <class F, class... Args>
future<executor_result_t<F, Args...>> submit_job(executor& ex, loop_core* loop, F&& f, Args&&... args) {
    using R = executor_result_t<F, Args...>;
    future<R> fut(loop);
    auto job = std::make_shared<executor_job<R, std::decay_t<F>, std::decay_t<Args>...>>(
        fut, std::forward<F>(f), std::forward<Args>(args)...);
    // A shared_ptr keeps the std::function copyable whatever f and args are.
    ex.submit([job = std::move(job)] { job->run(); });
    return fut;
}

}  // namespace detail

/// asyncio.to_thread(f, *args): runs f(args...) on the running loop's
/// default executor. `co_await` the result; the awaiting task resumes on a
/// worker of that loop. Throws std::runtime_error if no loop is running here.
template <class F, class... Args>
auto to_thread(F&& f, Args&&... args) {
    detail::loop_core* loop = detail::running_core_for_executor();
    auto ex = detail::default_executor_of(loop);
    return detail::submit_job(*ex, loop, std::forward<F>(f), std::forward<Args>(args)...);
}

}  // namespace corio
