// corio::semaphore and corio::bounded_semaphore: asyncio.Semaphore and
// asyncio.BoundedSemaphore, safe when their waiters run on different
// workers. Built on detail::wait_list: a release while tasks wait hands its
// permit straight to the oldest waiter whose wake-up succeeds, so
// - permits go to waiters in FIFO order and a newcomer never overtakes them
//   (the count stays 0 across the hand-over);
// - a waiter cancelled while the release runs is skipped: no permit lost,
//   none granted twice;
// - a waiter handed a permit but cancelled before it resumed gives the
//   permit on and throws cancelled_error (asyncio).
//
// Invariant (under mutex_): waiters_ is non-empty only while value_ is 0.
//
// Resumption: an acquire that waited resumes on the worker its wake-up puts
// it on (the releasing task's worker, in a runtime), never inline inside
// release().
#pragma once

#include <coroutine>
#include <cstddef>

#include "corio/detail/release_guard.hpp"
#include "corio/detail/spinlock.hpp"
#include "corio/detail/wait_list.hpp"

namespace corio {

class semaphore {
    struct waiter : detail::parked_waiter {
        bool out_of_budget = false;  // a permit was free, but the poll's coop budget ran out: yield after taking it
    };

public:
    /// `value` permits; a negative value throws std::invalid_argument.
    explicit semaphore(std::ptrdiff_t value = 1) : semaphore(value, false) {}
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;

    /// True when an acquire would have to wait.
    bool locked() const;

    /// `co_await s.acquire()`: waits for a permit and takes it.
    class acquire_operation {
    public:
        explicit acquire_operation(semaphore& s) noexcept : s_(s) {}
        bool await_ready();
        bool await_suspend(std::coroutine_handle<> h);
        void await_resume();

    private:
        semaphore& s_;
        waiter w_;
    };
    [[nodiscard]] acquire_operation acquire() noexcept { return acquire_operation(*this); }

    using guard = detail::release_guard<semaphore>;
    /// `auto g = co_await s.scoped();`: acquire(), released when `g` is destroyed.
    [[nodiscard]] detail::scoped_operation<semaphore, acquire_operation> scoped() noexcept {
        return detail::scoped_operation<semaphore, acquire_operation>(*this);
    }

    /// Returns a permit (to the oldest waiter, if any). A bounded_semaphore
    /// throws std::invalid_argument when that would exceed its initial
    /// value. Callable from any thread.
    void release();

protected:
    semaphore(std::ptrdiff_t value, bool bounded);

private:
    bool try_take_locked() noexcept;
    void give_locked() noexcept;

    mutable detail::spinlock mutex_;
    std::size_t value_;        // free permits; under mutex_
    const std::size_t bound_;  // bounded: the initial value, which release may not exceed
    const bool bounded_;
    detail::wait_list waiters_;
};

/// A semaphore whose release() throws std::invalid_argument when it would
/// raise the count above the initial value (asyncio's ValueError).
class bounded_semaphore : public semaphore {
public:
    explicit bounded_semaphore(std::ptrdiff_t value = 1) : semaphore(value, true) {}
};

}  // namespace corio
