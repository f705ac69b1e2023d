// detail::basic_queue<T, Container>: the one implementation behind queue<T>,
// priority_queue<T, Compare> and lifo_queue<T> (asyncio.Queue and its two
// subclasses). The Container policy decides only which item comes out next;
// waiting, hand-over, task_done/join accounting and shutdown live here, once,
// built on the wait_list protocol (detail/wait_list.hpp).
//
// Invariants (lock_ held):
// - getters_ non-empty => no items stored: a getter parks only on an empty
//   queue, and a put serves the waiting getters before it stores anything.
// - putters_ non-empty => the queue is bounded and full: a putter parks only
//   on a full queue, and a get that frees a slot fills it with the oldest
//   putter's item. With the first invariant: no new get or put barges past
//   a waiter, and waiters are served in FIFO order.
// - shut_down_ => getters_ and putters_ empty: shutdown() wakes them all, and
//   afterwards no get or put parks.
// - unfinished_ counts the items put (stored, handed to a getter or admitted
//   from a putter) and not yet task_done(), less those shutdown(true) dropped.
//
// One waiting get or put, step by step:
//   1. [locked] The operation is tried; when it has to wait, park_locked links
//      the waiter at the back of getters_ / putters_.
//   2. [locked] A put (get) pops the oldest getter (putter) and serve()s it;
//      only when that wake-up succeeds is the item handed to the getter (the
//      putter's item admitted). A failed wake-up means cancel() won: the next
//      waiter is tried, so a cancelled get loses no item and a cancelled put
//      inserts nothing.
//   3. [locked] Or shutdown() serves every waiter with `shut_down` set, moving
//      no item.
//   4. await_resume: finish_wait; served -> the item (get) or queue_shut_down;
//      not served -> cancelled_error.
//
// Resumption: a waiting get/put/join resumes on the worker its wake-up puts
// it on (the waker's, in a runtime), never inline inside the waker's call.
// A queue must outlive every operation on it.
#pragma once

#include <algorithm>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include "corio/detail/spinlock.hpp"
#include "corio/detail/task_header.hpp"
#include "corio/detail/wait_list.hpp"
#include "corio/errors.hpp"

namespace corio::detail {

/// What a Container policy for basic_queue<T, Container> provides. Its
/// members run under the queue's lock, so they must not touch the queue.
template <class C, class T>
concept queue_container = std::move_constructible<T> && requires(C& c, const C& cc, T&& item) {
    c.push(std::move(item));  // adds one item
    { c.pop() } -> std::same_as<T>;  // removes and returns the next one (c is not empty)
    { cc.size() } -> std::same_as<std::size_t>;
    typename C::storage;  // what take_all() returns, destroyed by the caller
    { c.take_all() } -> std::same_as<typename C::storage>;  // removes every item
};

template <class T, class Container>
    requires queue_container<Container, T>
class basic_queue {
    /// How an attempt that may not wait ended.
    enum class [[nodiscard]] attempt { done, must_wait, shut_down };

    /// One get or put: a parked waiter while it waits.
    struct waiter : parked_waiter {
        std::optional<T> item;       // get: handed over; put: waiting to go in
        bool shut_down = false;      // served by shutdown(): nothing moved
        bool out_of_budget = false;  // ready, but the poll's coop budget ran out: yield after it

        /// Records an attempt made without parking (by this task only);
        /// true unless it has to wait.
        bool settle(attempt a) noexcept {
            shut_down = a == attempt::shut_down;
            return served = a != attempt::must_wait;
        }
        /// In await_resume: cancelled_error or queue_shut_down if the
        /// operation did not happen.
        template <class Lock>
        void finish(Lock& lock, wait_list& list) {
            finish_wait(lock, *this, list);
            if (shut_down) throw queue_shut_down();  // written under the lock finish_wait took
        }
    };

public:
    using value_type = T;

    /// maxsize <= 0: unbounded (asyncio).
    explicit basic_queue(std::ptrdiff_t maxsize, Container items = Container())
        : items_(std::move(items)), maxsize_(maxsize > 0 ? static_cast<std::size_t>(maxsize) : 0) {}
    basic_queue(const basic_queue&) = delete;
    basic_queue& operator=(const basic_queue&) = delete;

    std::size_t qsize() const {
        std::lock_guard lock(lock_);
        return items_.size();
    }
    bool empty() const { return qsize() == 0; }
    bool full() const {
        std::lock_guard lock(lock_);
        return full_locked();
    }
    /// 0 when unbounded.
    std::size_t maxsize() const noexcept { return maxsize_; }

    /// Adds `item`, or throws queue_full (queue_shut_down after shutdown()).
    void put_nowait(T item) {
        attempt a;
        {
            std::lock_guard lock(lock_);
            a = try_put_locked(item);
        }
        if (a == attempt::must_wait) throw queue_full();
        if (a == attempt::shut_down) throw queue_shut_down();
    }
    /// Removes and returns the next item, or throws queue_empty
    /// (queue_shut_down once a shut-down queue is empty).
    T get_nowait() {
        std::optional<T> item;
        attempt a;
        {
            std::lock_guard lock(lock_);
            a = try_get_locked(item);
        }
        if (a == attempt::must_wait) throw queue_empty();
        if (a == attempt::shut_down) throw queue_shut_down();
        return std::move(*item);
    }

    /// `co_await q.put(item)`: waits while the queue is full. Throws
    /// queue_shut_down after shutdown(), also when shutdown() ends the wait;
    /// then, as on cancellation, nothing was inserted.
    class put_operation {
    public:
        put_operation(basic_queue& q, T item) : q_(q) { w_.item.emplace(std::move(item)); }
        bool await_ready() {
            // Out of budget: await_suspend does the operation, then yields.
            if ((w_.out_of_budget = !consume_budget())) return false;
            std::lock_guard lock(q_.lock_);
            return w_.settle(q_.try_put_locked(*w_.item));
        }
        bool await_suspend(std::coroutine_handle<> h) {
            {
                std::lock_guard lock(q_.lock_);
                if (!w_.settle(q_.try_put_locked(*w_.item))) return park_locked(w_, h, q_.putters_);
            }
            return w_.out_of_budget && yield_current(h);
        }
        void await_resume() { w_.finish(q_.lock_, q_.putters_); }

    private:
        basic_queue& q_;
        waiter w_;
    };
    [[nodiscard]] put_operation put(T item) { return put_operation(*this, std::move(item)); }

    /// `co_await q.get()`: waits while the queue is empty. Once the queue is
    /// shut down and empty, throws queue_shut_down.
    class get_operation {
    public:
        explicit get_operation(basic_queue& q) : q_(q) {}
        bool await_ready() {
            // Out of budget: await_suspend does the operation, then yields.
            if ((w_.out_of_budget = !consume_budget())) return false;
            std::lock_guard lock(q_.lock_);
            return w_.settle(q_.try_get_locked(w_.item));
        }
        bool await_suspend(std::coroutine_handle<> h) {
            {
                std::lock_guard lock(q_.lock_);
                if (!w_.settle(q_.try_get_locked(w_.item))) return park_locked(w_, h, q_.getters_);
            }
            return w_.out_of_budget && yield_current(h);
        }
        T await_resume() {
            // Served: the item is ours, even if a cancel came after the
            // hand-over (it stays pending for the next suspension point).
            w_.finish(q_.lock_, q_.getters_);
            return std::move(*w_.item);
        }

    private:
        basic_queue& q_;
        waiter w_;
    };
    [[nodiscard]] get_operation get() { return get_operation(*this); }

    /// Marks one item taken by get as processed (asyncio's task_done);
    /// std::logic_error when called more times than items were put.
    void task_done() {
        std::lock_guard lock(lock_);
        if (unfinished_ == 0) throw std::logic_error("task_done() called too many times");
        if (--unfinished_ == 0) serve_all(joiners_);
    }

    /// `co_await q.join()`: waits until every item put has been task_done()
    /// (or dropped by shutdown(true)); returns at once when none is pending.
    class join_operation {
    public:
        explicit join_operation(basic_queue& q) : q_(q) {}
        bool await_ready() {
            std::lock_guard lock(q_.lock_);
            return w_.served = q_.unfinished_ == 0;
        }
        bool await_suspend(std::coroutine_handle<> h) {
            std::lock_guard lock(q_.lock_);
            if ((w_.served = q_.unfinished_ == 0)) return false;
            return park_locked(w_, h, q_.joiners_);
        }
        void await_resume() { finish_wait(q_.lock_, w_, q_.joiners_); }

    private:
        basic_queue& q_;
        parked_waiter w_;
    };
    [[nodiscard]] join_operation join() { return join_operation(*this); }

    /// asyncio 3.13's Queue.shutdown: from now on put and put_nowait throw
    /// queue_shut_down, and so do get and get_nowait once the queue is empty;
    /// waiting putters and getters are woken with queue_shut_down.
    /// `immediate` also drops the items still queued, counting each as
    /// task_done(), so join() returns once the items already taken are done.
    void shutdown(bool immediate = false) {
        typename Container::storage dropped;  // destroyed after unlocking: an item's destructor may do anything
        std::lock_guard lock(lock_);
        shut_down_ = true;
        if (immediate) {
            dropped = items_.take_all();
            // asyncio never takes unfinished below zero (task_done may have come early).
            unfinished_ -= std::min(unfinished_, static_cast<std::size_t>(dropped.size()));
            if (unfinished_ == 0) serve_all(joiners_);
        }
        serve_all_shut_down(getters_);
        serve_all_shut_down(putters_);
    }

private:
    // ---- all with lock_ held ------------------------------------------------
    bool full_locked() const { return maxsize_ != 0 && items_.size() >= maxsize_; }

    attempt try_put_locked(T& item) {
        if (shut_down_) return attempt::shut_down;
        // Hand it to the oldest getter whose wake-up succeeds (a cancelled
        // one fails its wake-up and is skipped; it unlinks itself).
        while (waiter* g = getters_.pop<waiter>()) {
            if (serve(*g)) {
                g->item.emplace(std::move(item));
                ++unfinished_;
                return attempt::done;
            }
        }
        if (full_locked()) return attempt::must_wait;
        items_.push(std::move(item));
        ++unfinished_;
        return attempt::done;
    }

    attempt try_get_locked(std::optional<T>& item) {
        if (items_.size() == 0) return shut_down_ ? attempt::shut_down : attempt::must_wait;
        item.emplace(items_.pop());
        // The slot it freed goes to the oldest putter whose wake-up succeeds.
        while (waiter* p = putters_.pop<waiter>()) {
            if (serve(*p)) {
                items_.push(std::move(*p->item));
                ++unfinished_;
                break;
            }
        }
        return attempt::done;
    }

    static void serve_all_shut_down(wait_list& list) noexcept {
        while (waiter* w = list.pop<waiter>()) {
            if (serve(*w)) w->shut_down = true;
        }
    }

    mutable spinlock lock_;
    Container items_;
    std::size_t maxsize_;
    std::size_t unfinished_ = 0;
    bool shut_down_ = false;
    wait_list getters_, putters_, joiners_;
};

}  // namespace corio::detail
