// corio::condition (corio/condition.hpp): wait's three steps and notify.
#include "corio/condition.hpp"

#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "corio/detail/task_header.hpp"
#include "corio/errors.hpp"

namespace corio {

/// Steps 1 and 2 of wait(): releases the lock and waits for a notify.
class condition::notified_operation {
public:
    explicit notified_operation(condition& c) noexcept : c_(c) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        std::lock_guard g(c_.mutex_);
        c_.lock_->release();
        released_ = true;
        // Not parked (a cancellation is pending): await_resume throws it.
        return detail::park_locked(w_, h, c_.waiters_);
    }
    void await_resume() { detail::finish_wait(c_.mutex_, w_, c_.waiters_); }
    /// False when the release threw (the lock was not held after all).
    bool released() const noexcept { return released_; }

private:
    condition& c_;
    detail::parked_waiter w_;
    bool released_ = false;
};

task<bool> condition::wait() {
    if (!lock_->locked()) throw std::runtime_error("cannot wait on un-acquired lock");
    std::exception_ptr failure;
    bool notified = false;
    notified_operation waiting(*this);
    try {
        co_await waiting;
        notified = true;
    } catch (...) {
        failure = std::current_exception();
    }
    if (!waiting.released()) std::rethrow_exception(failure);
    // Step 3: not abandoned because of a cancellation (a new acquire is
    // made after each one; the cancellation is thrown once the lock is held).
    for (;;) {
        try {
            co_await lock_->acquire();
            break;
        } catch (const cancelled_error&) {
            failure = std::current_exception();
        }
    }
    if (failure) {
        // Notified but leaving with an exception: another waiter gets the
        // notification instead (at worst a spurious wake-up, which a
        // condition allows).
        if (notified) notify(1);
        std::rethrow_exception(failure);
    }
    co_return true;
}

void condition::notify(std::size_t n) {
    if (!lock_->locked()) throw std::runtime_error("cannot notify on un-acquired lock");
    std::lock_guard g(mutex_);
    for (std::size_t woken = 0; woken < n;) {
        detail::parked_waiter* w = waiters_.pop();
        if (!w) break;
        // A failed wake-up is a waiter cancel() woke first: it does not count.
        if (detail::serve(*w)) ++woken;
    }
}

void condition::notify_all() { notify(std::numeric_limits<std::size_t>::max()); }

}  // namespace corio
