// Crossing between plain threads and event loops (asyncio's
// run_coroutine_threadsafe and wrap_future). A concurrent_future<T> is what
// a thread that runs no loop holds to wait for a task running on a loop:
// Python's concurrent.futures.Future.
//
//   // on any plain thread, while `loop` runs elsewhere (a standalone loop
//   // driven by its own thread, or any worker's loop of a runtime):
//   corio::concurrent_future<int> f = corio::run_coroutine_threadsafe(work(), loop);
//   int v = f.get();                    // blocks this thread; rethrows the task's exception
//   int w = f.get(2s);                  // throws timeout_error if not done within 2 s
//   f.cancel();                         // cancels the task
//
//   // in a task: await what another thread produces, without blocking a worker
//   int x = co_await corio::wrap_future(std::move(some_std_future));
//
// wrap_future: asyncio.wrap_future turns a concurrent.futures.Future into
// something a coroutine can await. The C++ equivalents are:
// - a std::future / std::shared_future: it offers no completion callback, so
//   some thread must block in its get(). wrap_future does that on the loop's
//   default executor (as to_thread does), never on a worker, and returns a
//   corio::future<T> the task awaits. Cancelling the awaiting task cancels
//   that future at once, but the executor thread stays in get() until the
//   std::future is ready (a std::future cannot be cancelled): one blocking-pool
//   thread per pending wrapped std::future.
// - a concurrent_future from run_coroutine_threadsafe: it is a task's
//   completion, which any task on any loop can already await; wrap_future
//   returns its task_handle<T>, and awaiting it blocks nothing.
#pragma once

#include <chrono>
#include <future>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "corio/detail/completion.hpp"
#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/executor.hpp"
#include "corio/future.hpp"
#include "corio/task.hpp"
#include "corio/task_handle.hpp"

namespace corio {

namespace detail {
/// Blocks the calling thread until `c` is done, or until `deadline` (if not
/// null) passes; true when done. Throws std::runtime_error on a thread that
/// runs an event loop (it would block the loop that has to finish the
/// work). Defined in lib/concurrent_future.cpp.
bool block_until_done_or(completion& c, const std::chrono::steady_clock::time_point* deadline);
}  // namespace detail

/// A task's result for a thread that runs no loop (Python's
/// concurrent.futures.Future, std::future's interface). Move-only, like
/// std::future: get() moves the value out, once. Every member may be called
/// from any thread; the blocking ones (wait, get) throw std::runtime_error
/// on a thread that runs an event loop: co_await wrap_future(f) there.
///
/// cancel() requests the task's cancellation (it sees cancelled_error at its
/// current suspension point). Unlike Python, where the concurrent future is
/// marked cancelled at once, done()/cancelled()/get() then report how the
/// task actually ended (it may catch the cancellation and return a value).
template <class T>
class concurrent_future {
public:
    using value_type = T;

    concurrent_future() noexcept = default;
    explicit concurrent_future(task_handle<T> task) noexcept : task_(std::move(task)) {}
    concurrent_future(concurrent_future&&) noexcept = default;
    concurrent_future& operator=(concurrent_future&&) noexcept = default;
    concurrent_future(const concurrent_future&) = delete;
    concurrent_future& operator=(const concurrent_future&) = delete;

    /// False when default-constructed, moved from, or after get().
    bool valid() const noexcept { return task_ && !taken_; }
    bool done() const {
        check_valid();
        return task_.done();
    }
    bool cancelled() const {
        check_valid();
        return task_.cancelled();
    }
    /// Requests the task's cancellation; false if it is already done.
    bool cancel() {
        check_valid();
        return task_.cancel();
    }

    /// Blocks until the task is done.
    void wait() const {
        check_valid();
        detail::block_until_done_or(*task_.header(), nullptr);
    }
    /// Blocks until the task is done or `timeout` passes; true if done.
    bool wait_for(std::chrono::steady_clock::duration timeout) const {
        return wait_until(std::chrono::steady_clock::now() + timeout);
    }
    bool wait_until(std::chrono::steady_clock::time_point deadline) const {
        check_valid();
        return detail::block_until_done_or(*task_.header(), &deadline);
    }

    /// Waits, then returns the task's value (moved out) or rethrows its
    /// exception (cancelled_error if it was cancelled). Leaves this future invalid.
    T get() {
        wait();
        return take();
    }
    /// get(), but throws timeout_error if the task is not done within
    /// `timeout` (the task keeps running, and this future stays valid).
    T get(std::chrono::steady_clock::duration timeout) {
        if (!wait_for(timeout)) throw timeout_error("concurrent_future::get timed out");
        return take();
    }

    /// The task itself: awaitable from any loop, copyable (see wrap_future).
    const task_handle<T>& handle() const {
        check_valid();
        return task_;
    }

private:
    void check_valid() const {
        if (!valid()) throw invalid_state_error("concurrent_future has no task (moved from, or get() already called)");
    }
    T take() {
        taken_ = true;
        return task_.take_result();
    }

    // Kept referenced after get(), until this future dies: the exception
    // get() rethrows is shared with the task's frame, and while the catching
    // thread holds the task, the frame (and with it the last reference to the
    // exception) is released after that thread's handler, in an order the
    // task's reference count establishes. (Exceptions count their references
    // inside libstdc++, where ThreadSanitizer cannot see the ordering.)
    task_handle<T> task_;
    bool taken_ = false;
};

/// Schedules `t` on `loop` from any thread (asyncio.run_coroutine_threadsafe)
/// and returns the future a plain thread waits on. `loop` may be a
/// standalone loop driven by another thread or any worker's loop of a
/// runtime (`rt.loop(i)`). Throws std::runtime_error if `loop` is closed.
template <class T>
concurrent_future<T> run_coroutine_threadsafe(task<T> t, event_loop& loop) {
    if (loop.is_closed()) throw std::runtime_error("Event loop is closed");
    return concurrent_future<T>(loop.create_task(std::move(t)));
}

namespace detail {
/// The executor job behind wrap_future: blocks in f.get().
template <class T, template <class> class StdFuture>
auto blocking_get(StdFuture<T> f) {
    static_assert(!std::is_reference_v<T>, "wrap_future: a std::future<T&> would be copied; wrap a pointer instead");
    if (!f.valid()) throw std::future_error(std::future_errc::no_state);
    return [f = std::move(f)]() mutable -> T { return f.get(); };
}
}  // namespace detail

/// `co_await wrap_future(std::move(f), loop)`: waits for a std::future (or
/// std::shared_future) on `loop`'s default executor (see the top of this
/// file); the awaiting task resumes on a worker of `loop` with its value or
/// exception. Throws std::future_error if `f` has no state.
template <class T>
future<T> wrap_future(std::future<T> f, event_loop& loop) {
    return loop.run_in_executor(nullptr, detail::blocking_get(std::move(f)));
}
template <class T>
future<T> wrap_future(std::shared_future<T> f, event_loop& loop) {
    return loop.run_in_executor(nullptr, detail::blocking_get(std::move(f)));
}
/// The same on the running loop (std::runtime_error if none runs here).
template <class T>
future<T> wrap_future(std::future<T> f) {
    return to_thread(detail::blocking_get(std::move(f)));
}
template <class T>
future<T> wrap_future(std::shared_future<T> f) {
    return to_thread(detail::blocking_get(std::move(f)));
}
/// A concurrent_future is a task's completion: its task_handle, awaitable
/// from any loop without blocking a thread. Cancelling the awaiting task
/// cancels that task (asyncio's chained futures do the same).
template <class T>
task_handle<T> wrap_future(concurrent_future<T> f) {
    return f.handle();
}

}  // namespace corio
