// corio::runtime: N worker threads, each driving its own event_loop, which
// steal work from each other (asyncio.Runner on every core). corio::run is
// asyncio.run: start a runtime, run main to completion, cancel and await
// what is left, shut down.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <utility>

#include "corio/event_loop.hpp"
#include "corio/task.hpp"
#include "corio/task_handle.hpp"

namespace corio {

struct run_options {
    /// Worker threads; 0 means one per hardware thread.
    std::size_t workers = 0;
    bool debug = false;
    /// The default executor's elastic pool (run_in_executor(nullptr) /
    /// to_thread): at most this many threads, each retiring after
    /// blocking_pool_keep_alive without work.
    std::size_t blocking_pool_max_threads = 512;
    std::chrono::steady_clock::duration blocking_pool_keep_alive = std::chrono::seconds(10);
};

namespace detail {
void block_until_done(completion& c);
}

class runtime {
public:
    explicit runtime(run_options options = {});
    /// Shuts down (see shutdown()).
    ~runtime();
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    /// Runs `main` on the workers and blocks the calling thread (which must
    /// not be a worker) until it finishes; returns its value or rethrows.
    template <class T>
    T run_until_complete(task<T> main) {
        return run_until_complete(create_task(std::move(main)));
    }
    template <class T>
    T run_until_complete(task_handle<T> h) {
        detail::block_until_done(*h.header());
        return h.take_result();
    }
    /// Schedules a task from any thread (from outside: the injection queue).
    template <class T>
    task_handle<T> create_task(task<T> t, const task_options& opts) {
        return loop(0).create_task(std::move(t), opts);
    }
    template <class T>
    task_handle<T> create_task(task<T> t) {
        return loop(0).create_task(std::move(t));
    }

    std::size_t workers() const noexcept;
    event_loop& loop(std::size_t index) const;

    /// Cancels every task still pending and waits for each to finish (each
    /// is cancelled once; one that ignores cancellation keeps this waiting,
    /// as in asyncio), then stops and joins the workers. Idempotent.
    void shutdown();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// asyncio.run(main()).
template <class T>
T run(task<T> main, run_options options = {}) {
    runtime rt(options);
    return rt.run_until_complete(std::move(main));
}

}  // namespace corio
