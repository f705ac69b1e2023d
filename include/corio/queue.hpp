// corio::queue<T>: asyncio.Queue, FIFO, safe when its getters and putters
// run on different workers. Items and waiters live under one lock; a put
// hands its item straight to the oldest waiting getter, and a get that frees
// a slot admits the oldest waiting putter's item, each only after that
// waiter's wake-up succeeded, so:
// - a cancelled get loses no item (the item goes to the next getter, or the
//   queue) and a cancelled put inserts nothing;
// - waiters are served in FIFO order, with no barging past them.
//
// Resumption: a waiting get/put resumes on the worker its wake-up puts it on
// (the waker's, in a runtime), never inline inside the waker's call.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include "corio/detail/completion.hpp"
#include "corio/detail/spinlock.hpp"
#include "corio/detail/task_header.hpp"
#include "corio/errors.hpp"

namespace corio {

template <class T>
class queue {
    /// One suspended get or put: an intrusive node in the awaiting frame.
    struct waiter {
        waiter* next = nullptr;
        waiter* prev = nullptr;
        bool linked = false;
        detail::task_header* task = nullptr;
        std::uint32_t generation = 0;
        std::optional<T> item;   // get: handed over; put: waiting to go in
        bool suspended = false;  // set by the awaiting task itself
        bool out_of_budget = false;  // ready, but the poll's coop budget ran out: yield after it
        /// The operation happened (the item was handed over or admitted).
        /// Once `suspended`, written by wakers under the lock and read by
        /// the resumed task under the lock only.
        bool served = false;
    };
    struct waiter_list {
        waiter* head = nullptr;
        waiter* tail = nullptr;
        void push(waiter* w) noexcept {
            w->prev = tail;
            w->next = nullptr;
            (tail ? tail->next : head) = w;
            tail = w;
            w->linked = true;
        }
        void erase(waiter* w) noexcept {
            (w->prev ? w->prev->next : head) = w->next;
            (w->next ? w->next->prev : tail) = w->prev;
            w->next = w->prev = nullptr;
            w->linked = false;
        }
        waiter* pop() noexcept {
            waiter* w = head;
            if (w) erase(w);
            return w;
        }
    };

public:
    /// maxsize <= 0: unbounded (asyncio).
    explicit queue(std::ptrdiff_t maxsize = 0) : maxsize_(maxsize > 0 ? static_cast<std::size_t>(maxsize) : 0) {}
    queue(const queue&) = delete;
    queue& operator=(const queue&) = delete;

    std::size_t qsize() const {
        std::lock_guard lock(lock_);
        return items_.size();
    }
    bool empty() const { return qsize() == 0; }
    bool full() const {
        std::lock_guard lock(lock_);
        return maxsize_ != 0 && items_.size() >= maxsize_;
    }
    std::size_t maxsize() const noexcept { return maxsize_; }

    /// Adds `item` or throws queue_full.
    void put_nowait(T item) {
        std::lock_guard lock(lock_);
        if (!try_put_locked(item)) throw queue_full();
    }
    /// Removes and returns the oldest item or throws queue_empty.
    T get_nowait() {
        std::lock_guard lock(lock_);
        std::optional<T> item = try_get_locked();
        if (!item) throw queue_empty();
        return std::move(*item);
    }

    /// `co_await q.put(item)`: waits while the queue is full.
    class put_operation {
    public:
        put_operation(queue& q, T item) : q_(q) { w_.item.emplace(std::move(item)); }
        bool await_ready() {
            // Out of budget: await_suspend does the operation, then yields.
            if ((w_.out_of_budget = !detail::consume_budget())) return false;
            std::lock_guard lock(q_.lock_);
            return w_.served = q_.try_put_locked(*w_.item);
        }
        bool await_suspend(std::coroutine_handle<> h) {
            {
                std::lock_guard lock(q_.lock_);
                if (!(w_.served = q_.try_put_locked(*w_.item))) return q_.suspend_locked(w_, h, q_.putters_);
            }
            return w_.out_of_budget && detail::yield_current(h);
        }
        void await_resume() { q_.finish(w_, q_.putters_); }  // cancelled: nothing was inserted

    private:
        queue& q_;
        waiter w_;
    };
    [[nodiscard]] put_operation put(T item) { return put_operation(*this, std::move(item)); }

    /// `co_await q.get()`: waits while the queue is empty.
    class get_operation {
    public:
        explicit get_operation(queue& q) : q_(q) {}
        bool await_ready() {
            // Out of budget: await_suspend does the operation, then yields.
            if ((w_.out_of_budget = !detail::consume_budget())) return false;
            std::lock_guard lock(q_.lock_);
            w_.item = q_.try_get_locked();
            return w_.served = w_.item.has_value();
        }
        bool await_suspend(std::coroutine_handle<> h) {
            {
                std::lock_guard lock(q_.lock_);
                w_.item = q_.try_get_locked();
                if (!(w_.served = w_.item.has_value())) return q_.suspend_locked(w_, h, q_.getters_);
            }
            return w_.out_of_budget && detail::yield_current(h);
        }
        T await_resume() {
            // Served: the item is ours, even if a cancel came after the
            // hand-over (it stays pending for the next suspension point).
            q_.finish(w_, q_.getters_);
            return std::move(*w_.item);
        }

    private:
        queue& q_;
        waiter w_;
    };
    [[nodiscard]] get_operation get() { return get_operation(*this); }

    /// Marks one item taken by get as processed (asyncio's task_done).
    void task_done() {
        std::lock_guard lock(lock_);
        if (unfinished_ == 0) throw std::logic_error("task_done() called too many times");
        if (--unfinished_ == 0) wake_all_locked(joiners_);
    }

    /// `co_await q.join()`: waits until every item put has been task_done().
    class join_operation {
    public:
        explicit join_operation(queue& q) : q_(q) {}
        bool await_ready() {
            std::lock_guard lock(q_.lock_);
            return w_.served = q_.unfinished_ == 0;
        }
        bool await_suspend(std::coroutine_handle<> h) {
            std::lock_guard lock(q_.lock_);
            if ((w_.served = q_.unfinished_ == 0)) return false;
            return q_.suspend_locked(w_, h, q_.joiners_);
        }
        void await_resume() { q_.finish(w_, q_.joiners_); }

    private:
        queue& q_;
        waiter w_;
    };
    [[nodiscard]] join_operation join() { return join_operation(*this); }

private:
    // ---- all with lock_ held ------------------------------------------------
    bool try_put_locked(T& item) {
        // Hand it to the oldest getter whose wake-up succeeds (a cancelled
        // one fails its wake-up and is skipped; it unlinks itself).
        while (waiter* g = getters_.pop()) {
            if (detail::wake(g->task, g->generation)) {
                g->item.emplace(std::move(item));
                g->served = true;
                ++unfinished_;
                return true;
            }
        }
        if (maxsize_ != 0 && items_.size() >= maxsize_) return false;
        items_.push_back(std::move(item));
        ++unfinished_;
        return true;
    }

    std::optional<T> try_get_locked() {
        if (items_.empty()) return std::nullopt;
        std::optional<T> item(std::move(items_.front()));
        items_.pop_front();
        // The slot it freed goes to the oldest putter whose wake-up succeeds.
        while (waiter* p = putters_.pop()) {
            if (detail::wake(p->task, p->generation)) {
                items_.push_back(std::move(*p->item));
                p->served = true;
                ++unfinished_;
                break;
            }
        }
        return item;
    }

    bool suspend_locked(waiter& w, std::coroutine_handle<> h, waiter_list& list) {
        const std::int64_t gen = detail::arm_wait(h);
        if (gen < 0) return false;  // cancellation pending: await_resume throws it
        w.task = detail::current_task_header();
        w.generation = static_cast<std::uint32_t>(gen);
        w.suspended = true;
        list.push(&w);
        return true;
    }

    // ---- without the lock ------------------------------------------------------
    /// After await_ready / await_suspend: returns if the operation happened;
    /// otherwise (woken by cancel(), or a cancellation was pending before it
    /// could suspend) unlinks the waiter and throws cancelled_error.
    void finish(waiter& w, waiter_list& list) {
        bool served;
        if (w.suspended) {
            std::lock_guard lock(lock_);  // wakers write `served` under it
            served = w.served;
            if (!served && w.linked) list.erase(&w);
        } else {
            served = w.served;  // written by this task only
        }
        if (served) return;
        detail::throw_if_cancelled();
        throw std::logic_error("corio::queue: a waiter resumed neither served nor cancelled");
    }

    void wake_all_locked(waiter_list& list) {
        while (waiter* w = list.pop()) {
            if (detail::wake(w->task, w->generation)) w->served = true;
        }
    }

    mutable detail::spinlock lock_;
    std::deque<T> items_;
    std::size_t maxsize_;
    std::size_t unfinished_ = 0;
    waiter_list getters_, putters_, joiners_;
};

}  // namespace corio
