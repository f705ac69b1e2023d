// corio::runtime: N worker threads, each driving its own event_loop, which
// steal work from each other (asyncio.Runner on every core). corio::run is
// asyncio.run: start a runtime, run main to completion, cancel and await
// what is left, shut down.
//
// Ctrl-C (asyncio 3.11's Runner): while run_until_complete (or corio::run)
// blocks the main thread, the first SIGINT cancels the main task, and the
// run then throws keyboard_interrupt; a second SIGINT gets the default
// disposition and kills the process. Only when called from the main thread
// with SIGINT at its default disposition (no handler of the program's own);
// the disposition is the default again when the run returns.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "corio/event_loop.hpp"
#include "corio/task.hpp"
#include "corio/task_handle.hpp"

namespace corio {

/// The most workers a runtime can have.
inline constexpr std::size_t max_workers = 65'535;

struct run_options {
    /// Worker threads; 0 means one per hardware thread. At most
    /// max_workers (std::invalid_argument beyond).
    std::size_t workers = 0;
    /// Debug mode on every worker loop (event_loop::set_debug); also on
    /// when CORIO_DEBUG=1 is set as the runtime is created.
    bool debug = false;
    /// asyncio's loop.slow_callback_duration for every worker loop: in
    /// debug mode, a task poll or callback that runs longer is reported.
    std::chrono::steady_clock::duration slow_callback_duration = std::chrono::milliseconds(100);
    /// The stall detector: a watchdog thread reports, while it happens, a
    /// worker that has not returned to its loop for this long, and the task
    /// that holds it. Zero: off, unless CORIO_STALL_MS sets it, or debug
    /// mode is on (then 1 s; CORIO_STALL_MS=0 turns it off).
    std::chrono::steady_clock::duration stall_threshold{};
    /// The default executor's elastic pool (run_in_executor(nullptr) /
    /// to_thread): at most this many threads, each retiring after
    /// blocking_pool_keep_alive without work.
    std::size_t blocking_pool_max_threads = 512;
    std::chrono::steady_clock::duration blocking_pool_keep_alive = std::chrono::seconds(10);
    /// A file to write a timeline of the workers to (Chrome trace-event
    /// JSON, for ui.perfetto.dev or tools/corio-trace) when the runtime
    /// shuts down; empty: the CORIO_TRACE environment variable, if set.
    /// Each worker keeps its last 65,536 events (README "Tracing").
    std::string trace = {};
};

/// What a run throws when a SIGINT cancelled its main task and the task
/// ended cancelled (asyncio's KeyboardInterrupt). Like cancelled_error, not
/// a std::exception.
class keyboard_interrupt {
public:
    const char* what() const noexcept { return "keyboard interrupt (SIGINT)"; }
};

namespace detail {
void block_until_done(completion& c);

struct interrupt_state;
/// Cancels the watched main task on the first SIGINT while it lives,
/// through `loop`'s signal handlers; does nothing off the main thread or
/// when SIGINT is not at its default disposition (lib/signals.cpp).
/// Installed before the main task is scheduled: a runtime's workers may
/// start it at once, and a SIGINT it raises must find the handler.
class interrupt_guard {
public:
    explicit interrupt_guard(event_loop& loop);
    ~interrupt_guard() { finish(); }
    interrupt_guard(const interrupt_guard&) = delete;
    interrupt_guard& operator=(const interrupt_guard&) = delete;
    /// The task a SIGINT cancels (at once, if one came already).
    void watch(task_ref main);
    /// Gives SIGINT back its default disposition; true if a SIGINT came.
    bool finish() noexcept;

private:
    event_loop* loop_ = nullptr;
    std::shared_ptr<interrupt_state> state_;  // null: not installed
};

/// The main task's result, or keyboard_interrupt when a SIGINT cancelled it
/// (asyncio: unless someone else cancelled it too, then cancelled_error).
template <class T>
T take_main_result(interrupt_guard& sigint, task_handle<T>& main) {
    if (sigint.finish() && main.cancelled() && main.uncancel() == 0) throw keyboard_interrupt();
    return main.take_result();
}
}  // namespace detail

class runtime {
public:
    explicit runtime(run_options options = {});
    /// Shuts down (see shutdown()).
    ~runtime();
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    /// Runs `main` on the workers and blocks the calling thread (which must
    /// not be a worker) until it finishes; returns its value or rethrows.
    /// SIGINT cancels it (see the top of this file).
    template <class T>
    T run_until_complete(task<T> main) {
        detail::interrupt_guard sigint(loop(0));
        task_handle<T> h = create_task(std::move(main));
        return run_main(sigint, h);
    }
    template <class T>
    T run_until_complete(task_handle<T> h) {
        detail::interrupt_guard sigint(loop(0));
        return run_main(sigint, h);
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
    /// A snapshot of every worker's counters and of the runtime's tasks and
    /// blocking pool (corio/metrics.hpp). Any thread, workers running or not.
    runtime_metrics metrics() const;

    /// Cancels every task still pending and waits for each to finish (each
    /// is cancelled once; one that ignores cancellation keeps this waiting,
    /// as in asyncio), then stops and joins the workers. Idempotent.
    void shutdown();

private:
    template <class T>
    T run_main(detail::interrupt_guard& sigint, task_handle<T>& h) {
        sigint.watch(h);
        detail::block_until_done(*h.header());
        return detail::take_main_result(sigint, h);
    }

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
