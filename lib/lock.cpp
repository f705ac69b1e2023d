// corio::lock (corio/lock.hpp): acquire's three steps and release's hand-over.
#include "corio/lock.hpp"

#include <mutex>
#include <stdexcept>

#include "corio/detail/task_header.hpp"
#include "corio/errors.hpp"

namespace corio {

bool lock::locked() const {
    std::lock_guard g(mutex_);
    return locked_;
}

bool lock::try_take_locked() noexcept {
    // Free means nobody waits either (the invariant), so taking it is not barging.
    if (locked_) return false;
    locked_ = true;
    return true;
}

bool lock::acquire_operation::await_ready() {
    // Out of budget: await_suspend takes the lock, then yields.
    if ((w_.out_of_budget = !detail::consume_budget())) return false;
    std::lock_guard g(l_.mutex_);
    return w_.served = l_.try_take_locked();
}

bool lock::acquire_operation::await_suspend(std::coroutine_handle<> h) {
    {
        std::lock_guard g(l_.mutex_);
        if (!(w_.served = l_.try_take_locked())) return detail::park_locked(w_, h, l_.waiters_);
    }
    return w_.out_of_budget && detail::yield_current(h);
}

void lock::acquire_operation::await_resume() {
    detail::finish_wait(l_.mutex_, w_, l_.waiters_);
    // Handed the lock while it waited, but cancelled before it resumed: the
    // cancellation wins (asyncio raises at this await) and the lock goes on.
    if (w_.suspended && detail::take_cancel()) {
        l_.release();
        throw cancelled_error();
    }
}

void lock::release() {
    std::lock_guard g(mutex_);
    if (!locked_) throw std::runtime_error("Lock is not acquired.");
    // Straight to the oldest waiter whose wake-up succeeds; locked_ stays
    // true. A failed wake-up is a waiter cancel() woke first: skip it.
    while (detail::parked_waiter* w = waiters_.pop()) {
        if (detail::serve(*w)) return;
    }
    locked_ = false;
}

}  // namespace corio
