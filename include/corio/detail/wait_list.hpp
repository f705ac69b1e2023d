// The waiting core of every lock-guarded primitive (queues, lock, event,
// condition, semaphores, barrier): a FIFO list of suspended tasks, each an
// intrusive node in its awaiting frame, guarded by the primitive's own lock.
//
// One wait, step by step (the primitive's lock held where marked):
//   [locked] park_locked: arm the task's wait and link its node.
//   [locked] a waker pops the oldest node and calls serve(): only when the
//            task's wake-up succeeds (it was not cancelled first) is the node
//            `served` and the operation done on its behalf (an item handed
//            over, a permit granted). A failed wake-up means cancel() won:
//            the waker moves on to the next node, so nothing is lost.
//   [locked] finish_wait, in the resumed task: served -> return; otherwise
//            unlink the node (cancel() woke it) and throw cancelled_error.
//
// Resumption: a parked task resumes on the worker its wake-up puts it on
// (the waker's, in a runtime), never inline inside the waker's call.
#pragma once

#include <coroutine>
#include <cstdint>
#include <mutex>
#include <stdexcept>

#include "corio/detail/task_header.hpp"

namespace corio::detail {

struct parked_waiter {
    parked_waiter* next = nullptr;
    parked_waiter* prev = nullptr;
    bool linked = false;
    task_header* task = nullptr;
    std::uint32_t generation = 0;
    bool suspended = false;  // set by the awaiting task itself
    /// The operation happened on this waiter's behalf. Once `suspended`,
    /// written by wakers under the lock and read by the resumed task under
    /// the lock only.
    bool served = false;
};

class wait_list {
public:
    bool empty() const noexcept { return head_ == nullptr; }

    void push(parked_waiter* w) noexcept {
        w->prev = tail_;
        w->next = nullptr;
        (tail_ ? tail_->next : head_) = w;
        tail_ = w;
        w->linked = true;
    }
    void erase(parked_waiter* w) noexcept {
        (w->prev ? w->prev->next : head_) = w->next;
        (w->next ? w->next->prev : tail_) = w->prev;
        w->next = w->prev = nullptr;
        w->linked = false;
    }
    /// Unlinks and returns the oldest waiter (null when empty), as the
    /// primitive's own node type.
    template <class Waiter = parked_waiter>
    Waiter* pop() noexcept {
        parked_waiter* w = head_;
        if (w) erase(w);
        return static_cast<Waiter*>(w);
    }

private:
    parked_waiter* head_ = nullptr;
    parked_waiter* tail_ = nullptr;
};

/// [locked] Arms the current task's wait and links `w` at the back of
/// `list`. Returns false (linking nothing) when a cancellation is pending:
/// the caller must not suspend, and finish_wait then throws it.
inline bool park_locked(parked_waiter& w, std::coroutine_handle<> h, wait_list& list) {
    const std::int64_t gen = arm_wait(h);
    if (gen < 0) return false;
    w.task = current_task_header();
    w.generation = static_cast<std::uint32_t>(gen);
    w.suspended = true;
    list.push(&w);
    return true;
}

/// [locked] Wakes an unlinked waiter. True (and `served` is set) when the
/// wake-up succeeded; false when cancel() woke it first.
inline bool serve(parked_waiter& w) noexcept {
    if (!wake(w.task, w.generation)) return false;
    w.served = true;
    return true;
}

/// [locked] Serves every waiter in `list`, oldest first.
inline void serve_all(wait_list& list) noexcept {
    while (parked_waiter* w = list.pop()) serve(*w);
}

/// [unlocked] In await_resume: true when `w` was served; otherwise (woken
/// by cancel() or by its own deadline, or a cancellation was pending before
/// it could park) unlinks it and returns false.
template <class Lock>
bool take_served(Lock& lock, parked_waiter& w, wait_list& list) {
    if (!w.suspended) return w.served;  // written by this task only
    std::lock_guard guard(lock);        // wakers write `served` under it
    if (!w.served && w.linked) list.erase(&w);
    return w.served;
}

/// [unlocked] In await_resume of a wait only a waker or cancel() ends:
/// returns when `w` was served; otherwise throws cancelled_error.
template <class Lock>
void finish_wait(Lock& lock, parked_waiter& w, wait_list& list) {
    if (take_served(lock, w, list)) return;
    throw_if_cancelled();
    throw std::logic_error("corio: a waiter resumed neither served nor cancelled");
}

}  // namespace corio::detail
