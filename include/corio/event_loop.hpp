// event_loop: asyncio's loop API over one corio loop core. A standalone loop
// (new_event_loop) is driven by the thread that calls run_until_complete /
// run_forever and keeps asyncio's exact ordering (strict FIFO, no inline
// fork-join). The loops of a corio::runtime are the same class, each driven
// by its own worker thread, and steal work from each other.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "corio/detail/callback.hpp"
#include "corio/executor.hpp"
#include "corio/future.hpp"
#include "corio/metrics.hpp"
#include "corio/task.hpp"
#include "corio/task_handle.hpp"
#include "corio/timer_handle.hpp"

namespace asio {
class io_context;
}

namespace corio {

using clock = std::chrono::steady_clock;

/// What the exception handler receives (asyncio's context dict).
struct exception_context {
    std::string message;
    std::exception_ptr exception;
};

class event_loop;
using exception_handler = std::function<void(event_loop&, const exception_context&)>;

namespace detail {
struct signal_handlers;
/// Takes the frame out of `t` for create_task.
template <class T>
detail::promise<T>* release_for_spawn(task<T>&& t) {
    if (!t.valid()) throw invalid_state_error("create_task of a task that was already awaited or started");
    return &t.release().promise();
}
/// Makes `t` a spawned task on `loop` and returns its handle's reference.
template <class T>
detail::promise<T>* spawn_task(task<T>&& t, loop_core* loop, const task_options& opts) {
    detail::promise<T>* p = release_for_spawn(std::move(t));
    spawn(p, loop, opts.name.empty() ? nullptr : &opts.name, opts.pinned);
    return p;
}
/// The same for create_task without options: on the running loop.
template <class T>
detail::promise<T>* spawn_task(task<T>&& t) {
    detail::promise<T>* p = release_for_spawn(std::move(t));
    spawn_here(p);
    return p;
}
/// Drives a standalone loop (or blocks a foreign thread) until `c` is done.
void run_until_done(loop_core* loop, completion& c);
/// Throws std::runtime_error if `loop` cannot be run from this thread now
/// (closed, already running, another loop running here).
void check_can_run(loop_core* loop);
/// Hands `node` and one of its references to `loop`'s timers. Out of
/// memory, that reference is dropped before the exception leaves, so the
/// caller frees the node by dropping its own.
void add_timer(loop_core* loop, callback_node* node);
/// Debug mode: reports `operation` called from a thread that does not run
/// `loop` while it runs (lib/debug_mode.cpp).
void check_loop_thread(loop_core* loop, const char* operation) noexcept;
}  // namespace detail

class event_loop : public std::enable_shared_from_this<event_loop> {
public:
    /// Use new_event_loop(); the runtime creates its worker loops itself.
    explicit event_loop(std::unique_ptr<detail::loop_core> core);
    ~event_loop();
    event_loop(const event_loop&) = delete;
    event_loop& operator=(const event_loop&) = delete;

    // ---- running ---------------------------------------------------------
    /// Runs the loop until the task finishes; returns its value or rethrows.
    /// Throws std::runtime_error if the loop is closed or already running.
    template <class T>
    T run_until_complete(task<T> t) {
        // Refuse before spawning: a refused task must not run later (asyncio
        // checks the loop before ensure_future).
        detail::check_can_run(core());
        return run_until_complete(create_task(std::move(t)));
    }
    template <class T>
    T run_until_complete(task_handle<T> h) {
        detail::run_until_done(core(), *h.header());
        return h.take_result();
    }
    template <class T>
    T run_until_complete(future<T> f) {
        detail::run_until_done(core(), f.completion_state());
        if constexpr (std::is_void_v<T>) f.result();
        else return T(f.result());
    }
    /// Runs until stop() is called.
    void run_forever();
    /// Makes run_forever / run_until_complete return after the current iteration.
    void stop();
    /// Closes the loop: it can never run again. Throws if it is running.
    void close();
    bool is_running() const noexcept;
    bool is_closed() const noexcept;

    // ---- callbacks and timers ---------------------------------------------
    /// Runs fn() on this loop soon, after what is already ready (FIFO).
    /// Must be called from the loop's own thread (asyncio); use
    /// call_soon_threadsafe from elsewhere. In debug mode, a call from
    /// another thread while the loop runs is reported (asyncio raises);
    /// the callback is still scheduled, as call_soon_threadsafe would.
    template <class F>
    timer_handle call_soon(F&& fn) {
        detail::check_loop_thread(core(), "call_soon");
        return call_soon_threadsafe(std::forward<F>(fn));
    }
    /// call_soon from any thread; wakes the loop.
    template <class F>
    timer_handle call_soon_threadsafe(F&& fn) {
        detail::callback_node* n = detail::make_callback(std::forward<F>(fn), 2);
        timer_handle h(n, std::adopt_lock);
        detail::post_callback(core(), n);
        return h;
    }
    /// call_later and call_at: from the loop's own thread too (thread-safe,
    /// and reported from another thread in debug mode, as call_soon).
    template <class F>
    timer_handle call_later(clock::duration delay, F&& fn) {
        detail::check_loop_thread(core(), "call_later");
        return schedule_at(time() + delay, std::forward<F>(fn));
    }
    template <class F>
    timer_handle call_at(clock::time_point when, F&& fn) {
        detail::check_loop_thread(core(), "call_at");
        return schedule_at(when, std::forward<F>(fn));
    }
    /// The loop's clock (monotonic).
    clock::time_point time() const noexcept { return clock::now(); }

    // ---- futures and tasks ------------------------------------------------
    template <class T = void>
    future<T> create_future() {
        return future<T>(core());
    }
    /// Schedules `t` on this loop (thread-safe) and returns its handle.
    template <class T>
    task_handle<T> create_task(task<T> t, const task_options& opts) {
        return task_handle<T>(detail::spawn_task(std::move(t), core(), opts), false);
    }
    /// (An overload, not a default argument: see corio::create_task.)
    template <class T>
    task_handle<T> create_task(task<T> t) {
        return create_task(std::move(t), task_options{});
    }

    // ---- executors ------------------------------------------------------------
    /// asyncio's loop.run_in_executor: runs f(args...) on `ex` (nullptr: this
    /// loop's default executor, an elastic thread pool that the loops of a
    /// runtime share) and returns a future<R> bound to this loop. `co_await`
    /// it: the awaiting task resumes on a worker of its loop with f's result
    /// or exception. Cancelling the awaiting task cancels the future: a job
    /// not started yet never starts; a running one finishes, its result dropped.
    /// Throws std::runtime_error if the executor is shut down.
    template <class F, class... Args>
    auto run_in_executor(executor* ex, F&& f, Args&&... args) {
        if (ex) return detail::submit_job(*ex, core(), std::forward<F>(f), std::forward<Args>(args)...);
        // Hold the default executor across submit: set_default_executor may replace it.
        std::shared_ptr<executor> def = default_executor();
        return detail::submit_job(*def, core(), std::forward<F>(f), std::forward<Args>(args)...);
    }
    template <class F, class... Args>
    auto run_in_executor(const std::shared_ptr<executor>& ex, F&& f, Args&&... args) {
        return run_in_executor(ex.get(), std::forward<F>(f), std::forward<Args>(args)...);
    }
    /// Replaces the default executor (of every loop of a runtime). The old
    /// one is not shut down: its running jobs still complete their futures.
    void set_default_executor(std::shared_ptr<executor> ex);
    /// The default executor, created on first use.
    std::shared_ptr<executor> default_executor();
    /// asyncio's shutdown_default_executor: refuses new jobs from now on
    /// ("executor is shut down") and blocks the calling thread until the
    /// running and queued jobs finish or `timeout` passes (then the queued
    /// ones are dropped, their awaiters get an error). True if all finished.
    bool shutdown_default_executor(std::chrono::steady_clock::duration timeout = std::chrono::seconds(300));

    // ---- IO -------------------------------------------------------------------
    /// The loop's Asio reactor. Asio objects made on it (sockets, timers,
    /// signal sets) complete their operations on this loop's thread; await
    /// them with corio::use_task. Owned by the loop: destroy such objects
    /// before the loop.
    asio::io_context& io_context() noexcept;

    // ---- signals ----------------------------------------------------------------
    /// asyncio's add_signal_handler: from now on, signal `signum` makes this
    /// loop run fn() soon, as call_soon does: on this loop's thread, never
    /// inside the signal handler; an exception goes to the exception
    /// handler. Replaces this loop's earlier handler for `signum`. Several
    /// deliveries before the callback runs may count as one. Any thread.
    /// Throws std::invalid_argument for an invalid signal number, SIGKILL,
    /// SIGSTOP or an empty fn; std::runtime_error if the loop is closed.
    void add_signal_handler(int signum, std::function<void()> fn);
    /// Removes this loop's handler for `signum`; false if it had none. The
    /// signal's default disposition comes back unless another loop still
    /// handles it. Throws std::invalid_argument for an invalid number.
    bool remove_signal_handler(int signum);

    // ---- errors and debug ---------------------------------------------------
    void set_exception_handler(exception_handler handler);
    /// Calls the handler (or the default one, which prints to stderr). Any
    /// thread; debug reports call it on the thread that noticed (README,
    /// "Debug mode and stall detector").
    void call_exception_handler(const exception_context& context);
    void default_exception_handler(const exception_context& context);
    /// Debug mode (also run_options::debug, or CORIO_DEBUG=1 when the loop
    /// is created): unawaited tasks, slow callbacks, tasks pending at
    /// shutdown and call_soon from other threads are reported to the
    /// exception handler. Any thread.
    void set_debug(bool enabled) noexcept;
    bool get_debug() const noexcept;
    /// asyncio's loop.slow_callback_duration: in debug mode, a task poll or
    /// callback that runs longer is reported ("Executing <Task 'x'> took
    /// 0.201 seconds"). 100 ms by default. Any thread.
    void set_slow_callback_duration(clock::duration d) noexcept;
    clock::duration slow_callback_duration() const noexcept;

    // ---- metrics ------------------------------------------------------------------
    /// A snapshot of the scheduler this loop belongs to (corio/metrics.hpp):
    /// a standalone loop is one worker; a runtime's loop reports every
    /// worker of its runtime, as runtime::metrics() does. Any thread.
    runtime_metrics metrics() const;

    detail::loop_core* core() const noexcept { return core_.get(); }
    detail::signal_handlers& signal_registry() const noexcept { return *signals_; }

private:
    template <class F>
    timer_handle schedule_at(clock::time_point when, F&& fn) {
        detail::callback_node* n = detail::make_callback(std::forward<F>(fn), 2);
        n->when = when;
        timer_handle h(n, std::adopt_lock);
        detail::add_timer(core(), n);
        return h;
    }

    std::unique_ptr<detail::loop_core> core_;
    /// Declared after core_, so destroyed before the io_context it waits in.
    std::unique_ptr<detail::signal_handlers> signals_;
};

/// Creates a standalone loop (asyncio.new_event_loop()).
std::shared_ptr<event_loop> new_event_loop();

}  // namespace corio
