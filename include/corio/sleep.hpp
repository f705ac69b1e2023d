// sleep(d) and yield(): suspend the current task for a while, or just let
// everything already ready run first (asyncio.sleep(0)).
//
// Resumption: after sleep, on the loop whose timer fired (the loop the task
// slept on) or, in a runtime, wherever that wake-up is stolen to; after
// yield, on the same loop, behind the tasks that were ready.
#pragma once

#include <coroutine>

#include "corio/detail/callback.hpp"
#include "corio/event_loop.hpp"

namespace corio {

namespace detail {

class yield_operation {
public:
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) { return yield_current(h); }
    void await_resume() { throw_if_cancelled(); }
};

class sleep_operation {
public:
    /// `deadline` is in the future, or time_point::min() for a yield: the
    /// functions below decide, each with at most one clock read.
    explicit sleep_operation(clock::time_point deadline) noexcept : deadline_(deadline) {}
    sleep_operation(const sleep_operation&) = delete;
    sleep_operation& operator=(const sleep_operation&) = delete;
    ~sleep_operation() {
        if (timer_) timer_->release();
    }
    bool await_ready() const noexcept { return false; }
    /// Defined in lib/sleep.cpp.
    bool await_suspend(std::coroutine_handle<> h);
    void await_resume() {
        // Woken by cancel(): the timer must not fire into a later wait.
        if (timer_) timer_->cancelled.store(true, std::memory_order_relaxed);
        throw_if_cancelled();
    }

private:
    clock::time_point deadline_;
    callback_node* timer_ = nullptr;
};

}  // namespace detail

/// Suspends the current task for `delay` (a zero or negative delay is yield()).
inline detail::sleep_operation sleep(clock::duration delay) {
    // No clock read for sleep(0): asyncio code uses it as a bare yield.
    return detail::sleep_operation(delay <= clock::duration::zero() ? clock::time_point::min() : clock::now() + delay);
}
/// Suspends the current task until `deadline` (one already past is yield()).
inline detail::sleep_operation sleep_until(clock::time_point deadline) {
    return detail::sleep_operation(deadline <= clock::now() ? clock::time_point::min() : deadline);
}
/// Lets every task that is ready run before this one continues.
inline detail::yield_operation yield() noexcept { return {}; }

}  // namespace corio
