// corio::condition: asyncio.Condition, safe when its waiters run on
// different workers. It works on a corio::lock it is given, or on one it
// owns when default-constructed (asyncio's Condition(lock=None)), and offers
// that lock's acquire/release/locked/scoped itself.
//
// One wait():
//   1. Under mutex_: release the lock, park on waiters_ (detail::wait_list).
//      Both happen under mutex_, and notify() needs the lock and then
//      mutex_, so a notify that the release lets in always finds the waiter.
//   2. A notify serves the oldest waiters whose wake-ups succeed (a
//      cancelled one is skipped, so a notification is not lost to it).
//   3. The lock is acquired again, whatever happened in 2 (notified or
//      cancelled): wait() returns, or throws, with the lock held. A
//      cancellation during the reacquire is kept, the acquire retried until
//      it succeeds, and then the cancellation thrown (asyncio loops the same
//      way; C++ cannot co_await in a catch block, so the exception is saved).
//      A waiter that was notified but throws passes its notification on.
//
// Resumption: wait() resumes on the worker where its reacquire of the lock
// completes (the releasing task's worker, in a runtime).
#pragma once

#include <coroutine>
#include <cstddef>
#include <optional>
#include <type_traits>

#include "corio/detail/spinlock.hpp"
#include "corio/detail/wait_list.hpp"
#include "corio/lock.hpp"
#include "corio/task.hpp"

namespace corio {

class condition {
public:
    /// A condition with its own lock.
    condition() : lock_(&own_lock_.emplace()) {}
    /// A condition on `l`, which must outlive it.
    explicit condition(lock& l) noexcept : lock_(&l) {}
    condition(const condition&) = delete;
    condition& operator=(const condition&) = delete;

    // The underlying lock (asyncio's Condition is also usable as its lock).
    bool locked() const { return lock_->locked(); }
    [[nodiscard]] lock::acquire_operation acquire() noexcept { return lock_->acquire(); }
    void release() { lock_->release(); }
    [[nodiscard]] auto scoped() noexcept { return lock_->scoped(); }

    /// `co_await c.wait()` with the lock held: releases it, waits for a
    /// notify, takes the lock again and returns true. The lock is held
    /// again also when cancelled_error comes out. Throws std::runtime_error
    /// when the lock is not held.
    [[nodiscard]] task<bool> wait();

    /// `co_await c.wait_for(pred)` with the lock held: wait() until
    /// `pred()` is true; returns pred's last result.
    template <class Predicate>
    [[nodiscard]] task<std::decay_t<std::invoke_result_t<Predicate&>>> wait_for(Predicate pred) {
        auto result = pred();
        while (!result) {
            co_await wait();
            result = pred();
        }
        co_return result;
    }

    /// Wakes up to `n` waiting tasks. Throws std::runtime_error when the
    /// lock is not held.
    void notify(std::size_t n = 1);
    /// Wakes every waiting task.
    void notify_all();

private:
    class notified_operation;

    std::optional<lock> own_lock_;  // default-constructed: the lock this condition owns
    lock* lock_;
    detail::spinlock mutex_;  // guards waiters_
    detail::wait_list waiters_;
};

}  // namespace corio
