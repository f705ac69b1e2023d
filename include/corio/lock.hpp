// corio::lock: asyncio.Lock, safe when its waiters run on different
// workers. Built on detail::wait_list (the shared park/serve/finish
// protocol): a release hands ownership straight to the oldest waiter whose
// wake-up succeeds, so
// - waiters get the lock in FIFO order and a newcomer never barges past
//   them (the lock stays locked across the hand-over);
// - a waiter cancelled while the release runs is skipped (its wake-up fails)
//   and the next one gets the lock: no wake-up lost, never granted twice;
// - a waiter handed the lock but cancelled before it resumed gives it on
//   to the next waiter and throws cancelled_error (asyncio), so a cancelled
//   acquire never leaves its task owning the lock.
//
// Invariant (under mutex_): waiters_ is non-empty only while locked_ is true.
//
// Uncontended acquire/release: one spinlock round trip each, no allocation.
// Resumption: an acquire that waited resumes on the worker its wake-up puts
// it on (the releasing task's worker, in a runtime), never inline inside
// release().
#pragma once

#include <coroutine>

#include "corio/detail/release_guard.hpp"
#include "corio/detail/spinlock.hpp"
#include "corio/detail/wait_list.hpp"

namespace corio {

class lock {
    struct waiter : detail::parked_waiter {
        bool out_of_budget = false;  // free, but the poll's coop budget ran out: yield after taking it
    };

public:
    lock() = default;
    lock(const lock&) = delete;
    lock& operator=(const lock&) = delete;

    /// True while some task holds the lock.
    bool locked() const;

    /// `co_await l.acquire()`: waits until the lock is free, then holds it.
    class acquire_operation {
    public:
        explicit acquire_operation(lock& l) noexcept : l_(l) {}
        bool await_ready();
        bool await_suspend(std::coroutine_handle<> h);
        void await_resume();

    private:
        lock& l_;
        waiter w_;
    };
    [[nodiscard]] acquire_operation acquire() noexcept { return acquire_operation(*this); }

    using guard = detail::release_guard<lock>;
    /// `auto g = co_await l.scoped();`: acquire(), released when `g` is destroyed.
    [[nodiscard]] detail::scoped_operation<lock, acquire_operation> scoped() noexcept {
        return detail::scoped_operation<lock, acquire_operation>(*this);
    }

    /// Releases the lock (to the oldest waiter, if any). Throws
    /// std::runtime_error when it is not locked. Callable from any thread.
    void release();

private:
    bool try_take_locked() noexcept;

    mutable detail::spinlock mutex_;
    bool locked_ = false;  // under mutex_
    detail::wait_list waiters_;
};

}  // namespace corio
