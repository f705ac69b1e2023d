// corio::semaphore and bounded_semaphore (corio/semaphore.hpp).
#include "corio/semaphore.hpp"

#include <mutex>
#include <stdexcept>

#include "corio/detail/task_header.hpp"
#include "corio/errors.hpp"

namespace corio {

namespace {
std::size_t checked_initial_value(std::ptrdiff_t value) {
    if (value < 0) throw std::invalid_argument("Semaphore initial value must be >= 0");
    return static_cast<std::size_t>(value);
}
}  // namespace

semaphore::semaphore(std::ptrdiff_t value, bool bounded)
    : value_(checked_initial_value(value)), bound_(value_), bounded_(bounded) {}

bool semaphore::locked() const {
    std::lock_guard g(mutex_);
    return value_ == 0;
}

bool semaphore::try_take_locked() noexcept {
    // A free permit means nobody waits (the invariant): taking it is not barging.
    if (value_ == 0) return false;
    --value_;
    return true;
}

void semaphore::give_locked() noexcept {
    // Straight to the oldest waiter whose wake-up succeeds; a failed wake-up
    // is a waiter cancel() woke first: skip it.
    while (detail::parked_waiter* w = waiters_.pop()) {
        if (detail::serve(*w)) return;
    }
    ++value_;
}

bool semaphore::acquire_operation::await_ready() {
    // Out of budget: await_suspend takes the permit, then yields.
    if ((w_.out_of_budget = !detail::consume_budget())) return false;
    std::lock_guard g(s_.mutex_);
    return w_.served = s_.try_take_locked();
}

bool semaphore::acquire_operation::await_suspend(std::coroutine_handle<> h) {
    {
        std::lock_guard g(s_.mutex_);
        if (!(w_.served = s_.try_take_locked())) return detail::park_locked(w_, h, s_.waiters_);
    }
    return w_.out_of_budget && detail::yield_current(h);
}

void semaphore::acquire_operation::await_resume() {
    detail::finish_wait(s_.mutex_, w_, s_.waiters_);
    // Handed a permit while it waited, but cancelled before it resumed: the
    // cancellation wins (asyncio raises at this await) and the permit goes on.
    if (w_.suspended && detail::take_cancel()) {
        {
            std::lock_guard g(s_.mutex_);
            s_.give_locked();
        }
        throw cancelled_error();
    }
}

void semaphore::release() {
    std::lock_guard g(mutex_);
    if (bounded_ && value_ >= bound_) throw std::invalid_argument("BoundedSemaphore released too many times");
    give_locked();
}

}  // namespace corio
